import Cluster
import Foundation
import Fusion
import Guards
import Runtime

/// Job lifecycle: restore after a restart, submit, results, cancel, export of the best arm.
extension CoordinatorServer {
    /// A task that failed on this many leases fails its job (a broken spec must not loop forever).
    static let maxAttempts = 3

    // MARK: Restore

    /// Rebuilds memory from the store: unfinished jobs resume exactly where the last commit left them.
    func restore() throws {
        for warning in store.warnings { logger.warning("\(warning)") }
        submissions.hashCache.value = try store.loadBlobHashes()
        let restartGraceMs = UInt64(max(10_000, 4 * config.liveness * config.heartbeatIntervalMs))
        let now = UnixTime.nowMs()
        var resumed = 0
        for stored in try store.loadJobs() {
            let job = JobRuntime(stored)
            jobs[job.id] = job
            jobOrder.append(job.id)
            guard !job.state.isTerminal else { continue }
            resumed += 1
            blobs.register(job.prepared.blobPaths)
            for task in try store.loadTasks(job: job.id) {
                switch task.lease.state {
                case .done:
                    if let counts = task.counts, job.inFlight[task.lease.armID] != nil {
                        _ = job.record(arm: task.lease.armID, shard: task.lease.shard, counts: counts,
                                       elapsedMs: task.elapsedMs)
                    }
                case .queued:
                    leases.insert(task.lease)
                case .leased:
                    // Its worker gets a short window to re-register and claim it; then it is requeued.
                    var lease = task.lease
                    lease.deadlineUnixMs = min(lease.deadlineUnixMs, now + restartGraceMs)
                    leases.insert(lease)
                case .cancelled:
                    break
                }
            }
            if job.state == .exporting || job.searchFinished { startExport(job) }
            logger.info("resumed \(job.id): \(job.armsDone)/\(job.spec.iterations) arms done, \(job.run.inFlight.count) in flight")
        }
        if resumed == 0 { logger.info("no unfinished jobs in \(config.databasePath)") }
    }

    // MARK: Submit

    func submitJob(_ submit: Uniguard_V1_SubmitJob, from peer: Data, requestID: UInt64) {
        // Hashing models can take seconds: it runs off the loop, which keeps heartbeating meanwhile.
        submissions.start(yaml: submit.yaml, baseDirectory: submit.baseDirectory, submitter: submit.submitter,
                          peer: peer, requestID: requestID)
    }

    func finishSubmissions() {
        for done in submissions.takeFinished() {
            switch done.result {
            case .failure(let reason):
                logger.warning("rejected job from \(done.submitter.isEmpty ? Self.printable(done.peer) : done.submitter): \(reason)")
                sendError(.invalidJob, reason.description, to: done.peer, replyTo: done.requestID)
            case .success(let prepared):
                do {
                    let id = try createJob(prepared, yaml: done.yaml, submitter: done.submitter)
                    var reply = Uniguard_V1_SubmitReply()
                    reply.jobID = id
                    send(.submitReply(reply), to: done.peer, jobID: id, replyTo: done.requestID)
                } catch {
                    sendError(.invalidJob, "\(error)", to: done.peer, replyTo: done.requestID)
                }
            }
        }
    }

    private func createJob(_ prepared: PreparedMergeSearch, yaml: String, submitter: String) throws -> String {
        let search = try prepared.makeRun().engine
        let now = UnixTime.nowMs()
        let id: String
        do {
            id = try store.transaction { () throws -> String in
                let (id, seq) = try store.nextJobID(skipping: exportTaken)
                try store.insertJob(StoredJob(id: id, kind: "merge-search", specYAML: yaml, prepared: prepared,
                                              state: .running, submitter: submitter, createdMs: now, search: search),
                                    seq: seq)
                for (hash, file) in prepared.blobPaths {
                    let mtime = Self.mtimeMs(file.path)
                    try store.recordBlob(hash: hash, path: file.path, size: file.size, mtimeMs: mtime)
                }
                return id
            }
        } catch { storeFailed(error, "job submission") }
        for (hash, file) in prepared.blobPaths {
            submissions.hashCache.withLock { $0[SubmissionQueue.cacheKey(file.path, file.size, Self.mtimeMs(file.path))] = hash }
        }
        let job = JobRuntime(try store.loadJobs().first { $0.id == id }!)
        jobs[id] = job
        jobOrder.append(id)
        blobs.register(prepared.blobPaths)
        logger.info("job \(id) submitted by \(submitter): \(prepared.spec.iterations) arms, \(prepared.candidates.count) candidates, \(prepared.shards.count) shards per arm, strategy \(prepared.spec.strategies[0].rawValue)")
        return id
    }

    /// An id whose default export directory exists belongs to an earlier job: never hand it out again.
    private func exportTaken(_ id: String) -> Bool {
        FileManager.default.fileExists(atPath: (config.exportDirectory as NSString).appendingPathComponent(id))
    }

    static func mtimeMs(_ path: String) -> Int64 {
        let date = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        return Int64((date?.timeIntervalSince1970 ?? 0) * 1000)
    }

    // MARK: Results

    func handleResult(_ result: Uniguard_V1_TaskResult, from workerID: String) {
        defer { pendingAcks[workerID, default: []].append(result.taskID) }
        switch result.outcome {
        case .eval(let eval):
            do {
                let counts = try shardCounts(eval.counts, task: result.taskID)
                // The store keeps signed 64-bit integers: a larger duration is a lie, not a value to store.
                guard Int64(exactly: result.elapsedMs) != nil else {
                    throw JobSpecError(source: result.taskID, key: "elapsed_ms", reason: "\(result.elapsedMs) ms is not a duration; result rejected")
                }
                recordEvaluation(result.taskID, counts: counts, elapsedMs: result.elapsedMs, worker: workerID)
            } catch {
                taskFailed(result.taskID, reason: "\(error)", worker: workerID)
            }
        case .error(let error):
            taskFailed(result.taskID, reason: error.message, worker: workerID)
        default:
            logger.warning("worker \(workerID) sent an unsupported result for \(result.taskID); ignored")
        }
    }

    /// A worker's counts for one shard, or why they cannot be true: a count beyond Int, or more samples than the
    /// shard has lines (which also keeps the sum over an arm's shards from overflowing).
    private func shardCounts(_ wire: Uniguard_V1_ConfusionCounts, task taskID: String) throws -> ConfusionCounts {
        let counts = try ConfusionCounts(wire: wire)
        if let lease = leases.task(taskID), let job = jobs[lease.jobID], job.prepared.shards.indices.contains(lease.shard) {
            let lines = job.prepared.shards[lease.shard].lineCount
            guard counts.total <= lines else {
                throw JobSpecError(source: taskID, key: "counts", reason: "\(counts.total) samples counted in a shard of \(lines) lines; result rejected")
            }
        }
        return counts
    }

    private func recordEvaluation(_ taskID: String, counts: ConfusionCounts, elapsedMs: UInt64, worker: String) {
        guard case .accepted(let lease) = leases.complete(taskID) else {
            logger.debug("result for \(taskID) from \(worker) is a duplicate or for a finished task; ignored")
            return
        }
        guard let job = jobs[lease.jobID] else { return }
        let now = UnixTime.nowMs()
        var record: SearchRecord?
        var total = ConfusionCounts()
        if let (arm, sum, elapsed) = job.record(arm: lease.armID, shard: lease.shard, counts: counts, elapsedMs: elapsedMs) {
            total = sum
            do { record = try job.run.report(arm.id, counts: sum, seconds: Double(elapsed) / 1000) } catch {
                logger.error("\(job.id): cannot report arm \(arm.id) to the search: \(error)")
            }
        }
        let finished = job.state == .running && job.searchFinished
        do {
            try store.transaction {
                try store.completeTask(taskID, worker: worker, counts: counts, elapsedMs: elapsedMs, completedMs: now)
                if let record {
                    try store.completeArm(job: job.id, arm: lease.armID, counts: total, record: record, completedMs: now)
                    try store.saveSearch(job: job.id, job.run.engine)
                }
                if finished { try store.setJobState(job.id, .exporting) }
            }
        } catch { storeFailed(error, "task result") }
        if let record {
            logger.info("\(job.id): arm \(record.arm) F1 \(String(format: "%.4f", record.f1)) (\(job.armsDone)/\(job.spec.iterations), best \(String(format: "%.4f", record.bestF1)))")
        }
        if finished {
            job.state = .exporting
            startExport(job)
        }
    }

    private func taskFailed(_ taskID: String, reason: String, worker: String) {
        guard let lease = leases.task(taskID), lease.state == .leased, let job = jobs[lease.jobID] else { return }
        logger.warning("task \(taskID) failed on \(worker) (attempt \(lease.attempt)): \(reason)")
        guard lease.attempt < Self.maxAttempts else {
            failJob(job, reason: "task \(taskID) failed \(lease.attempt) times; last error: \(reason)")
            return
        }
        if let requeued = leases.requeue(taskID) { persistLeases([requeued], "failed task") }
    }

    // MARK: Cancel and fail

    func cancelJob(_ cancel: Uniguard_V1_CancelJob, from peer: Data, requestID: UInt64) {
        guard let job = jobs[cancel.jobID] else {
            sendError(.unknownJob, "no job \(cancel.jobID)", to: peer, replyTo: requestID, jobID: cancel.jobID)
            return
        }
        if !job.state.isTerminal {
            stopJob(job, state: .cancelled, message: cancel.reason.isEmpty ? "cancelled" : "cancelled: \(cancel.reason)")
            logger.info("job \(job.id) cancelled")
        }
        var reply = Uniguard_V1_CancelReply()
        reply.jobID = job.id
        reply.state = job.state.rawValue
        send(.cancelReply(reply), to: peer, jobID: job.id, replyTo: requestID)
    }

    func failJob(_ job: JobRuntime, reason: String) {
        logger.error("job \(job.id) failed: \(reason)")
        stopJob(job, state: .failed, message: reason)
    }

    /// Ends a job early: no more arms, queued tasks dropped, workers told to drop what they run.
    private func stopJob(_ job: JobRuntime, state: JobState, message: String) {
        let wasLeased = leases.cancel(job: job.id)
        for arm in job.run.inFlight { try? job.run.abandon(arm.id) }
        job.inFlight = [:]
        job.state = state
        job.message = message
        job.finishedMs = UnixTime.nowMs()
        do {
            try store.transaction {
                try store.cancelTasks(job: job.id)
                try store.abandonArms(job: job.id)
                try store.saveSearch(job: job.id, job.run.engine)
                try store.setJobState(job.id, state, finishedMs: job.finishedMs, message: message)
            }
        } catch { storeFailed(error, "job stop") }
        for workerID in Set(wasLeased.compactMap(\.workerID)) {
            guard let member = membership.member(workerID) else { continue }
            var cancel = Uniguard_V1_CancelJob()
            cancel.jobID = job.id
            cancel.reason = message
            send(.cancelJob(cancel), to: member.routingID, jobID: job.id)
        }
        leases.remove(job: job.id)
    }

    // MARK: Export

    func startExport(_ job: JobRuntime) {
        job.state = .exporting
        guard job.run.bestArm != nil else {
            finishJob(job, exportPath: nil, message: "no arm was evaluated; nothing to export")
            return
        }
        let output = job.spec.output ?? (config.exportDirectory as NSString).appendingPathComponent("\(job.id)/best")
        exports.start(jobID: job.id, run: job.run, output: output)
    }

    func finishExports() {
        for done in exports.takeFinished() {
            guard let job = jobs[done.jobID], job.state == .exporting else { continue }
            switch done.result {
            case .success(let path): finishJob(job, exportPath: path, message: nil)
            case .failure(let reason): finishJob(job, exportPath: nil, message: "export of the best arm failed: \(reason)")
            }
        }
    }

    private func finishJob(_ job: JobRuntime, exportPath: String?, message: String?) {
        job.state = .done
        job.exportPath = exportPath
        job.message = message
        job.finishedMs = UnixTime.nowMs()
        do {
            try store.transaction {
                try store.setJobState(job.id, .done, finishedMs: job.finishedMs, exportPath: exportPath, message: message)
                if let exportPath { try store.recordCheckpoint(job: job.id, kind: "best-arm", path: exportPath, createdMs: job.finishedMs!) }
            }
        } catch { storeFailed(error, "job completion") }
        leases.remove(job: job.id)
        let best = job.run.best.map { String(format: "%.4f (arm %@)", $0.f1, $0.arm.description) } ?? "none"
        logger.info("job \(job.id) done: best F1 \(best)\(exportPath.map { ", exported to \($0)" } ?? "")\(message.map { "; \($0)" } ?? "")")
    }
}
