import Cluster
import Foundation
import Guards
import Runtime

/// Training jobs (issue 12, TRAINING-CONTRACT.md): submission, generations of ranks, their leases, results and
/// disturbances. A generation is never retried: when it breaks, the next one starts from the last committed
/// checkpoint with whoever is there.
extension CoordinatorServer {
    /// Generations ended by failures in a row (no checkpoint committed in between) before the job fails.
    static let maxFailedGenerations = 6
    /// How often a worker still listing a task of an ended generation is told again to stop it.
    static let staleCancelIntervalMs: UInt64 = 3000

    // MARK: Restore and submit

    /// Training jobs from the store; unfinished ones wait for a new generation (G+1) from their last committed
    /// checkpoint, with `workers` workers, as at submission. Returns how many were resumed.
    func restoreTraining() throws -> Int {
        var resumed = 0
        for stored in try store.loadTrainingJobs() {
            let generations = try store.loadGenerations(job: stored.id)
            let committed = try store.lastCheckpoint(job: stored.id)
            let job = TrainingRuntime(stored, lastGeneration: generations.last?.generation ?? 0, committed: committed)
            trainingJobs[job.id] = job
            guard !job.state.isTerminal else { continue }
            resumed += 1
            blobs.register(job.prepared.blobPaths)
            if let committed { registerCheckpointBlobs(committed) }
            // Generations the crash left open ended with it.
            if let open = generations.last, open.endedMs == nil {
                do { try store.endGeneration(job: job.id, generation: open.generation, endedMs: UnixTime.nowMs(), reason: "coordinator restarted") }
                catch { storeFailed(error, "generation end at restore") }
            }
            logger.info("resumed training \(job.id): step \(job.committedStep)/\(job.totalSteps) committed, next generation \(job.lastGeneration + 1) once \(job.minimumMembers) workers are free")
            if job.state == .exporting || job.trainingFinished { startTrainingExport(job) }
        }
        return resumed
    }

    func createTrainingJob(_ prepared: PreparedTraining, yaml: String, submitter: String) throws -> String {
        let now = UnixTime.nowMs()
        let id: String
        do {
            id = try store.transaction { () throws -> String in
                let (id, seq) = try store.nextJobID(skipping: exportTaken)
                try store.insertTrainingJob(StoredTrainingJob(id: id, specYAML: yaml, prepared: prepared, state: .running,
                                                              submitter: submitter, createdMs: now), seq: seq)
                for (hash, file) in prepared.blobPaths where !file.path.hasPrefix(stateDirectory + "/") {
                    try store.recordBlob(hash: hash, path: file.path, size: file.size, mtimeMs: Self.mtimeMs(file.path))
                }
                return id
            }
        } catch { storeFailed(error, "job submission") }
        for (hash, file) in prepared.blobPaths {
            submissions.hashCache.withLock { $0[SubmissionQueue.cacheKey(file.path, file.size, Self.mtimeMs(file.path))] = hash }
        }
        let stored = StoredTrainingJob(id: id, specYAML: yaml, prepared: prepared, state: .running, submitter: submitter, createdMs: now)
        trainingJobs[id] = TrainingRuntime(stored, lastGeneration: 0, committed: nil)
        jobOrder.append(id)
        blobs.register(prepared.blobPaths)
        logger.info("job \(id) submitted by \(LogSafe.text(submitter, limit: 100)): \(prepared.spec.kind.rawValue), \(prepared.totalSteps) steps of global batch \(prepared.spec.batch) over \(prepared.records) records, waiting for \(prepared.spec.workers) workers")
        return id
    }

    func trainingJob(forTask taskID: String) -> TrainingRuntime? {
        guard let range = taskID.range(of: "/gen-") else { return nil }
        return trainingJobs[String(taskID[..<range.lowerBound])]
    }

    /// Task slots a worker's training ranks take (one per rank of a current generation).
    func trainingSlots(of workerID: String) -> Int {
        trainingJobs.values.reduce(0) { sum, job in
            sum + (job.current?.ranks.filter { $0.workerID == workerID && $0.result == nil }.count ?? 0)
        }
    }

    // MARK: Generations

    /// Each turn: ranks whose lease ran out end their generation; jobs without one form the next when enough workers
    /// are free; stalled checkpoint fetches are dropped.
    func scheduleTraining() {
        let now = UnixTime.nowMs()
        for id in jobOrder {
            guard let job = trainingJobs[id], job.state == .running else { continue }
            job.cancelledTasks = job.cancelledTasks.filter { now < $0.value + 20 * Self.staleCancelIntervalMs }
            if let fetch = job.fetch, ContinuousClock.now - fetch.lastActivity > .seconds(60) {
                abandonFetch(job, reason: "worker \(fetch.workerID) sent nothing for 60 s")
            }
            if let g = job.current, let late = g.ranks.indices.first(where: { g.ranks[$0].result == nil && g.ranks[$0].deadlineUnixMs <= now }) {
                endGeneration(job, reason: "rank \(late) (worker \(g.ranks[late].workerID)) made no progress within its lease", failure: true)
            }
            if job.current == nil { formGeneration(job) }
        }
    }

    /// Workers that may take a rank: live, not quarantined, a slot free, and not still running a task of an ended
    /// generation (it was told to stop; its slot frees when it has).
    func eligibleTrainingWorkers() -> [String] {
        let now = UnixTime.nowMs()
        return membership.members.values.filter { member in
            guard !failures.isQuarantined(member.id, nowUnixMs: now),
                  member.slots - leases.leasedCount(by: member.id) - trainingSlots(of: member.id) > 0 else { return false }
            return !member.reportedTasks.contains { task in
                guard let job = trainingJob(forTask: task) else { return false }
                return job.current?.rank(ofTask: task) == nil
            }
        }.map(\.id).sorted()
    }

    /// Forms generation G+1 from the eligible workers (ranks by sorted worker id), commits it, and sends each rank
    /// its TrainStepTask from the last committed checkpoint (the base model at step 0).
    func formGeneration(_ job: TrainingRuntime) {
        guard job.state == .running, job.current == nil, job.fetch == nil, !job.trainingFinished else { return }
        let candidates = eligibleTrainingWorkers()
        var needed = job.minimumMembers
        if let expected = job.expectedMembers {
            // Wait for the expected workers still alive to stop their old ranks, but not forever.
            let alive = expected.filter { membership.member($0) != nil }.count
            needed = UnixTime.nowMs() >= job.expectedUntilUnixMs ? 1 : max(1, alive)
        }
        guard candidates.count >= needed, !candidates.isEmpty else { return }
        let members = Array(candidates.prefix(job.prepared.spec.batch))
        let number = job.lastGeneration + 1
        let now = UnixTime.nowMs()
        let start = job.committedStep
        do {
            try store.transaction {
                try store.insertGeneration(job: job.id, StoredGeneration(generation: number, startStep: start, members: members, startedMs: now))
            }
        } catch { storeFailed(error, "generation start") }
        // The first step also waits for fetches and the rendezvous.
        let deadline = now + UInt64(config.leaseTimeoutMs) + UInt64(job.prepared.spec.rendezvousTimeoutMs)
        let ranks = members.enumerated().map { rank, worker in
            TrainingRuntime.Rank(workerID: worker, taskID: TrainingRuntime.taskID(job: job.id, generation: number, rank: rank),
                                 deadlineUnixMs: deadline, lastStep: start, assignedUnixMs: now)
        }
        let prefix = TrainingRuntime.rendezvousPrefix(job: job.id, generation: number)
        job.current = TrainingRuntime.Generation(number: number, startStep: start, ranks: ranks, startedMs: now, prefix: prefix)
        job.lastGeneration = number
        job.progress = nil
        job.progressUnixMs = nil
        let checkpoint = job.committed.map { ModelBlobSet(name: "\(job.id)-step-\($0.step)", path: "", files: $0.files) }
        logger.info("\(job.id): generation \(number) from step \(start): \(members.count) ranks (\(members.joined(separator: ", ")))")
        for rank in ranks.indices {
            let assignment = job.prepared.assignment(
                taskID: ranks[rank].taskID, generation: number, rank: rank, peers: members, startStep: start,
                checkpoint: checkpoint, deadlineUnixMs: deadline, rendezvousPrefix: prefix, sharedPaths: config.advertiseSharedPaths)
            guard let member = membership.member(ranks[rank].workerID),
                  send(.taskAssignment(assignment), to: member.routingID, jobID: job.id)
            else {
                // ZeroMQ knows a connection is gone before its heartbeats run out (a killed worker): such a worker is
                // gone, or every next generation would pick it again and fail the same way until the job fails.
                if let member = membership.member(ranks[rank].workerID) {
                    logger.warning("\(job.id): worker \(member.id) could not be reached; treating it as gone")
                    workerGone(member, state: "unreachable")
                }
                endGeneration(job, reason: "rank \(rank) (worker \(ranks[rank].workerID)) could not be reached", failure: true)
                return
            }
        }
    }

    /// Ends the current generation: committed, then every rank still reachable is told to stop its task. The next
    /// generation forms on a later turn from the workers then free (survivors, joiners), from the committed step.
    func endGeneration(_ job: TrainingRuntime, reason: String, failure: Bool, joiners: [String] = []) {
        guard let g = job.current else { return }
        if job.fetch != nil { abandonFetch(job, reason: "generation \(g.number) ended") }
        do { try store.transaction { try store.endGeneration(job: job.id, generation: g.number, endedMs: UnixTime.nowMs(), reason: reason) } }
        catch { storeFailed(error, "generation end") }
        job.current = nil
        // The next generation: the members still here and the joiners, once they stopped their old ranks (a step);
        // after that wait, whoever is free carries on (fewer ranks, same global batch).
        job.minimumMembers = 1
        job.expectedMembers = Set(g.members.filter { membership.member($0) != nil } + joiners)
        let slowestStepMs = min(g.ranks.map(\.stepMs).max() ?? 0, 3_600_000)
        job.expectedUntilUnixMs = UnixTime.nowMs() + UInt64(max(30_000, 3 * slowestStepMs))
        let message = "generation \(g.number) ended: \(reason)"
        if failure { logger.warning("\(job.id): \(message)") } else { logger.info("\(job.id): \(message)") }
        cancelTasks(of: job, g.ranks, reason: message)
        if failure {
            job.failedGenerations += 1
            if job.failedGenerations >= Self.maxFailedGenerations {
                stopTraining(job, state: .failed, message: "\(job.failedGenerations) generations in a row failed without committing a checkpoint; last: \(reason)")
                return
            }
        }
        if job.trainingFinished { startTrainingExport(job) }
    }

    /// CancelJob listing the ranks' task ids to each of their workers still connected.
    func cancelTasks(of job: TrainingRuntime, _ ranks: [TrainingRuntime.Rank], reason: String) {
        let now = UnixTime.nowMs()
        var byWorker: [String: [String]] = [:]
        for rank in ranks {
            job.cancelledTasks[rank.taskID] = now
            byWorker[rank.workerID, default: []].append(rank.taskID)
        }
        for (workerID, tasks) in byWorker { sendCancel(job: job.id, reason: reason, tasks: tasks, toWorker: workerID) }
    }

    /// A worker left or died: the generations it was a rank of end.
    func trainingWorkerGone(_ workerID: String) {
        for id in jobOrder {
            guard let job = trainingJobs[id], let g = job.current,
                  let rank = g.ranks.firstIndex(where: { $0.workerID == workerID && $0.result == nil }) else { continue }
            endGeneration(job, reason: "rank \(rank) (worker \(workerID)) left the cluster", failure: true)
        }
    }

    /// Aligns training ranks with what a worker says it runs: a rank whose task it no longer lists (after `graceMs`)
    /// was lost, and tasks of ended generations it still lists are cancelled again (not at every heartbeat).
    func reconcileTraining(workerID: String, holding: Set<String>, graceMs: UInt64) {
        let now = UnixTime.nowMs()
        var stale: [String: [String]] = [:]
        for task in holding {
            // Only ids of generations that existed: a worker cannot grow our bookkeeping with invented ones.
            guard let job = trainingJob(forTask: task), let generation = job.generation(ofTask: task),
                  generation >= 1, generation <= job.lastGeneration else { continue }
            if let current = job.current, let rank = current.rank(ofTask: task), current.ranks[rank].workerID == workerID { continue }
            if let told = job.cancelledTasks[task], now < told + Self.staleCancelIntervalMs { continue }
            job.cancelledTasks[task] = now
            stale[job.id, default: []].append(task)
        }
        for (jobID, tasks) in stale where membership.member(workerID) != nil {
            logger.info("worker \(workerID) still runs \(tasks.count) task(s) of \(jobID) that are not current (\(tasks.sorted().joined(separator: ", "))); cancelling them")
            sendCancel(job: jobID, reason: "not a task of the job's current generation", tasks: tasks, toWorker: workerID)
        }
        for id in jobOrder {
            guard let job = trainingJobs[id], let g = job.current else { continue }
            for rank in g.ranks where rank.workerID == workerID && rank.result == nil && !holding.contains(rank.taskID)
                && now >= rank.assignedUnixMs + graceMs {
                endGeneration(job, reason: "worker \(workerID) no longer runs \(rank.taskID)", failure: true)
                break
            }
        }
    }

    // MARK: Results

    /// A rank's TaskResult: counts only from the current generation's holder; an error ends the generation.
    func handleTrainResult(_ result: Uniguard_V1_TaskResult, job: TrainingRuntime, from workerID: String) {
        guard let current = job.current, current.rank(ofTask: result.taskID) != nil else {
            logger.debug("result for \(LogSafe.text(result.taskID)) from \(workerID) is not of \(job.id)'s current generation; ignored")
            return
        }
        switch job.holder(result.taskID, worker: workerID) {
        case .failure(let why):
            rejectLog.warning("result for \(LogSafe.text(result.taskID)) from worker \(workerID) rejected: \(why)")
            metrics?.resultRejected(why)
            return
        case .success(let rank):
            guard result.attempt == 1 else {
                rejectLog.warning("result for \(LogSafe.text(result.taskID)) from worker \(workerID) rejected: attempt \(result.attempt), not 1")
                metrics?.resultRejected(.staleAttempt(current: 1))
                return
            }
            switch result.outcome {
            case .trainStep(let r):
                guard r.step == UInt64(job.totalSteps), ModelBlobSet.isHexHash(r.parametersHash) else {
                    endGeneration(job, reason: "rank \(rank) reported step \(r.step) (of \(job.totalSteps)) with parameters hash '\(LogSafe.text(r.parametersHash, limit: 80))'", failure: true)
                    return
                }
                job.current?.ranks[rank].result = r
                logger.info("\(job.id): rank \(rank) (\(workerID)) finished at step \(r.step), parameters \(r.parametersHash.prefix(16))")
                checkTrainingCompletion(job)
            case .error(let error):
                endGeneration(job, reason: "rank \(rank) (worker \(workerID)) failed: \(LogSafe.text(error.message))", failure: true)
            default:
                rejectLog.warning("worker \(workerID) sent a result of the wrong kind for \(LogSafe.text(result.taskID)); ignored")
            }
        }
    }

    /// Every rank reported the same parameters at the last step and the final checkpoint is committed: export.
    func checkTrainingCompletion(_ job: TrainingRuntime) {
        guard job.state == .running, let g = job.current, job.trainingFinished else { return }
        let results = g.ranks.compactMap(\.result)
        guard results.count == g.ranks.count else { return }
        let hashes = Set(results.map(\.parametersHash))
        guard hashes.count == 1 else {
            let listing = g.ranks.enumerated().map { "rank \($0.offset): \($0.element.result?.parametersHash.prefix(16) ?? "?")" }.joined(separator: ", ")
            stopTraining(job, state: .failed, message: "ranks of generation \(g.number) ended with different parameters (\(listing))")
            return
        }
        job.current = nil
        do { try store.transaction { try store.endGeneration(job: job.id, generation: g.number, endedMs: UnixTime.nowMs(), reason: "finished") } }
        catch { storeFailed(error, "generation end") }
        startTrainingExport(job)
    }

    // MARK: Cancel, fail, export

    /// Ends a job early: its generation's ranks are told to stop.
    func stopTraining(_ job: TrainingRuntime, state: JobState, message: String) {
        let ranks = job.current?.ranks ?? []
        if job.fetch != nil { abandonFetch(job, reason: message) }
        job.state = state
        job.message = message
        job.finishedMs = UnixTime.nowMs()
        let generation = job.current?.number
        do {
            try store.transaction {
                if let generation { try store.endGeneration(job: job.id, generation: generation, endedMs: job.finishedMs!, reason: message) }
                try store.setJobState(job.id, state, finishedMs: job.finishedMs, message: message)
            }
        } catch { storeFailed(error, "job stop") }
        if state == .failed { logger.error("job \(job.id) failed: \(message)") }
        cancelTasks(of: job, ranks, reason: message)
        job.current = nil
    }

    /// The output directory of a job: `output`, or `<exports>/<job-id>/model`.
    func trainingOutput(_ job: TrainingRuntime) -> String {
        job.prepared.spec.output ?? (config.exportDirectory as NSString).appendingPathComponent("\(job.id)/model")
    }

    /// Copies the final checkpoint's model files (not the optimizer or trainer state) to the output, as a whole.
    func startTrainingExport(_ job: TrainingRuntime) {
        guard let final = job.committed, final.step >= job.totalSteps, job.state == .running || job.state == .exporting else { return }
        if job.state != .exporting {
            job.state = .exporting
            do { try store.transaction { try store.setJobState(job.id, .exporting) } } catch { storeFailed(error, "export start") }
        }
        let output = trainingOutput(job)
        let sources = final.files.filter { !PreparedTraining.trainerStateFiles.contains($0.name) }
            .map { (name: $0.name, path: checkpointStore.path($0.hash)) }
        logger.info("\(job.id): exporting the step \(final.step) model to \(output)")
        let prepared = job.prepared, logger = self.logger, jobID = job.id
        exports.start(jobID: job.id, output: output) {
            try AtomicDirectory.write(URL(fileURLWithPath: output)) { tmp in
                for file in sources {
                    try FileManager.default.copyItem(atPath: file.path, toPath: tmp.appendingPathComponent(file.name).path)
                }
                // Rank 0 wrote uniguard.json; one the provenance cannot be added to is exported as it came, and said so.
                do { try Self.recordPretrainingProvenance(prepared, in: tmp) } catch {
                    logger.warning("\(jobID): the exported uniguard.json lacks the pretraining provenance (\(error))")
                }
            }
        }
    }

    /// A pretrain job's model gets the uniguard.json provenance `uniguard pretrain` writes (recipe, settings, the
    /// corpus's policies), which a checkpoint lacks: `uniguard calibrate` reads the policies to stay off held-out ones.
    static func recordPretrainingProvenance(_ prepared: PreparedTraining, in dir: URL) throws {
        guard let p = prepared.pretrainingProvenance else { return }
        var meta = try GuardMetadata.load(directory: dir)
        let stored = GuardMetadata.storedKeys(directory: dir)
        meta.recipe = p.recipe
        try meta.save(directory: dir, preserving: stored.merging(p.extra) { _, new in new })
    }

    func finishTrainingExport(_ job: TrainingRuntime, result: Result<String, SubmissionQueue.Failure>) {
        guard job.state == .exporting else { return }
        switch result {
        case .success(let path):
            job.state = .done
            job.exportPath = path
            job.finishedMs = UnixTime.nowMs()
            do {
                try store.transaction {
                    try store.setJobState(job.id, .done, finishedMs: job.finishedMs, exportPath: path)
                    try store.recordCheckpoint(job: job.id, kind: "model", path: path, createdMs: job.finishedMs!)
                    try store.dropCheckpoints(job: job.id, keepingNewest: 0)
                }
            } catch { storeFailed(error, "job completion") }
            removeUnreferencedCheckpointFiles()
            logger.info("job \(job.id) done: \(job.totalSteps) steps, model exported to \(path)")
        case .failure(let reason):
            job.state = .running
            stopTraining(job, state: .failed, message: "export of the final model to \(trainingOutput(job)) failed: \(reason)")
        }
    }
}
