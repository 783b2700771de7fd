import Cluster
import Foundation
import Fusion
import Guards
import Runtime

/// Job lifecycle: restore after a restart, submit, results, cancel, export of the best arm.
extension CoordinatorServer {
    // MARK: Restore

    /// Rebuilds memory from the store: unfinished jobs resume exactly where the last commit left them.
    func restore() throws {
        for warning in store.warnings { logger.warning("\(warning)") }
        for error in store.errors { logger.error("\(error)") }
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
        resumed += try restoreTraining()
        resumed += try restoreSynthesis()
        // Submission order across both job families.
        let order = try store.jobKinds().map(\.id)
        jobOrder = order.filter { jobs[$0] != nil || trainingJobs[$0] != nil || synthesisJobs[$0] != nil }
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
                // The reason quotes the peer's YAML: escaped, so it cannot forge log lines.
                let who = done.submitter.isEmpty ? Self.printable(done.peer) : done.submitter
                logger.warning("rejected job from \(LogSafe.text(who, limit: 100)): \(LogSafe.text(reason.description))")
                sendError(.invalidJob, reason.description, to: done.peer, replyTo: done.requestID)
            case .success(let prepared):
                do {
                    let id: String
                    switch prepared {
                    case .mergeSearch(let search): id = try createJob(search, yaml: done.yaml, submitter: done.submitter)
                    case .training(let training): id = try createTrainingJob(training, yaml: done.yaml, submitter: done.submitter)
                    case .synthesis(let synthesis): id = try createSynthesisJob(synthesis, yaml: done.yaml, submitter: done.submitter)
                    }
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
        logger.info("job \(id) submitted by \(LogSafe.text(submitter, limit: 100)): \(prepared.spec.iterations) arms, \(prepared.candidates.count) candidates, \(prepared.shards.count) shards per arm, strategy \(prepared.spec.strategies[0].rawValue)")
        return id
    }

    /// An id whose default export directory exists belongs to an earlier job: never hand it out again.
    func exportTaken(_ id: String) -> Bool {
        FileManager.default.fileExists(atPath: (config.exportDirectory as NSString).appendingPathComponent(id))
    }

    static func mtimeMs(_ path: String) -> Int64 {
        let date = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        return Int64((date?.timeIntervalSince1970 ?? 0) * 1000)
    }

    // MARK: Results

    /// A worker's result. It counts only as the lease holder's result for the current attempt; anything else
    /// (a task it was never given, another worker's, an expired attempt, a replay) is logged and not counted.
    /// Every result is acknowledged, so an honest worker with a stale result stops resending it.
    func handleResult(_ result: Uniguard_V1_TaskResult, from workerID: String) {
        defer { pendingAcks[workerID, default: []].append(result.taskID) }
        if let training = trainingJob(forTask: result.taskID) {
            handleTrainResult(result, job: training, from: workerID)
            return
        }
        switch leases.verdict(result.taskID, worker: workerID, attempt: Int(result.attempt)) {
        case .accepted: break
        case .duplicate:
            logger.debug("result for \(LogSafe.text(result.taskID)) from \(workerID) was already counted; acknowledged again")
            return
        case .rejected(let why):
            rejectLog.warning("result for \(LogSafe.text(result.taskID)) (attempt \(result.attempt)) from worker \(workerID) rejected: \(why)")
            metrics?.resultRejected(why)
            return
        case .cancelled, .unknown:
            logger.debug("result for \(LogSafe.text(result.taskID)) from \(workerID) is for no running task; ignored")
            return
        }
        switch result.outcome {
        case .eval(let eval):
            do {
                let counts = try shardCounts(eval.counts, task: result.taskID)
                // The store keeps signed 64-bit integers: a larger duration is a lie, not a value to store.
                guard Int64(exactly: result.elapsedMs) != nil else {
                    throw JobSpecError(source: result.taskID, key: "elapsed_ms", reason: "\(result.elapsedMs) ms is not a duration; result rejected")
                }
                recordEvaluation(result.taskID, attempt: Int(result.attempt), counts: counts, elapsedMs: result.elapsedMs,
                                 worker: workerID)
            } catch {
                metrics?.resultRejected("invalid_result")
                taskFailed(result.taskID, reason: "\(error)", worker: workerID)
            }
        case .error(let error):
            taskFailed(result.taskID, reason: LogSafe.text(error.message), worker: workerID)
        default:
            logger.warning("worker \(workerID) sent an unsupported result for \(LogSafe.text(result.taskID)); ignored")
        }
    }

    /// A worker's counts for one shard, or why they cannot be true: a count beyond Int, or a total other than the
    /// samples the job's evaluator scores in the shard (which also keeps the sum over an arm's shards from overflowing).
    private func shardCounts(_ wire: Uniguard_V1_ConfusionCounts, task taskID: String) throws -> ConfusionCounts {
        let counts = try ConfusionCounts(wire: wire)
        if let lease = leases.task(taskID), let job = jobs[lease.jobID], job.prepared.shards.indices.contains(lease.shard) {
            let shard = job.prepared.shards[lease.shard]
            // Jobs prepared before the expected count was recorded can only be checked against the line count.
            let consistent = shard.scoredSamples.map { counts.total == $0 } ?? (counts.total <= shard.lineCount)
            guard consistent else {
                let expected = shard.scoredSamples.map { ", \($0) of them scored by the job's evaluator" } ?? ""
                throw JobSpecError(source: taskID, key: "counts", reason: "\(counts.total) samples counted in a shard of \(shard.lineCount) lines\(expected); result rejected")
            }
        }
        return counts
    }

    private func recordEvaluation(_ taskID: String, attempt: Int, counts: ConfusionCounts, elapsedMs: UInt64, worker: String) {
        guard case .accepted(let lease) = leases.complete(taskID, worker: worker, attempt: attempt) else { return }
        failures.recordSuccess(worker: worker)
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

    /// The holder's attempt failed: the task goes back to the queue for a worker that has not failed it.
    private func taskFailed(_ taskID: String, reason: String, worker: String) {
        guard let lease = leases.task(taskID), lease.state == .leased, let job = jobs[lease.jobID] else { return }
        logger.warning("task \(taskID) failed on \(worker) (attempt \(lease.attempt)): \(reason)")
        guard chargeFailure(taskID, of: job, to: worker, reason: reason) else { return }
        if let requeued = leases.requeue(taskID) { persistLeases([requeued], "failed task") }
    }

    /// Charges a failed or expired attempt to its worker: a worker failing task after task is quarantined, and the
    /// job fails only when enough distinct workers failed the same task. Returns false when the job failed.
    @discardableResult
    func chargeFailure(_ taskID: String, of job: JobRuntime, to worker: String, reason: String) -> Bool {
        let outcome = failures.recordFailure(task: taskID, worker: worker, nowUnixMs: UnixTime.nowMs())
        if outcome.quarantinedWorker {
            logger.warning("worker \(worker) failed \(failures.failuresToQuarantine) tasks in a row; quarantined for \(failures.quarantineMs / 1000) s (no tasks)")
        }
        guard outcome.failsJob else { return true }
        failJob(job, reason: "task \(taskID) failed on \(outcome.workers.count) distinct workers (\(outcome.workers.joined(separator: ", "))); last error: \(reason)")
        return false
    }

    // MARK: Cancel and fail

    func cancelJob(_ cancel: Uniguard_V1_CancelJob, from peer: Data, requestID: UInt64) {
        if cancelSynthesis(cancel, from: peer, requestID: requestID) { return }
        if let training = trainingJobs[cancel.jobID] {
            if !training.state.isTerminal {
                stopTraining(training, state: .cancelled, message: cancelMessage(cancel))
                logger.info("job \(training.id) cancelled")
            }
            sendCancelReply(jobID: training.id, state: training.state, to: peer, requestID: requestID)
            return
        }
        guard let job = jobs[cancel.jobID] else {
            sendError(.unknownJob, "no job \(cancel.jobID)", to: peer, replyTo: requestID, jobID: cancel.jobID)
            return
        }
        if !job.state.isTerminal {
            stopJob(job, state: .cancelled, message: cancelMessage(cancel))
            logger.info("job \(job.id) cancelled")
        }
        sendCancelReply(jobID: job.id, state: job.state, to: peer, requestID: requestID)
    }

    /// The message a cancelled job keeps: the canceller's reason when it gave one.
    func cancelMessage(_ cancel: Uniguard_V1_CancelJob) -> String {
        cancel.reason.isEmpty ? "cancelled" : "cancelled: \(cancel.reason)"
    }

    /// Answers `coordinator cancel` with the job's state after the cancel (any kind of job).
    func sendCancelReply(jobID: String, state: JobState, to peer: Data, requestID: UInt64) {
        var reply = Uniguard_V1_CancelReply()
        reply.jobID = jobID
        reply.state = state.rawValue
        send(.cancelReply(reply), to: peer, jobID: jobID, replyTo: requestID)
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
        tellWorkersToDrop(wasLeased, job: job.id, reason: message)
        forgetJob(job.id)
    }

    /// Tells each worker that held one of `leases` to drop the job's tasks it still runs.
    func tellWorkersToDrop(_ leases: [TaskLease], job: String, reason: String) {
        for workerID in Set(leases.compactMap(\.workerID)) { sendCancel(job: job, reason: reason, toWorker: workerID) }
    }

    /// Tells `workerID`, when connected, to drop the job's `tasks` (every task of the job when empty).
    func sendCancel(job: String, reason: String, tasks: [String] = [], toWorker workerID: String) {
        guard let member = membership.member(workerID) else { return }
        var cancel = Uniguard_V1_CancelJob()
        cancel.jobID = job
        cancel.reason = reason
        cancel.taskIds = tasks.sorted()
        send(.cancelJob(cancel), to: member.routingID, jobID: job)
    }

    /// Drops a finished job's tasks from the lease table and the failure ledger (they live on in the store).
    func forgetJob(_ id: String) {
        leases.remove(job: id)
        failures.forgetTasks { $0.hasPrefix(id + "/") }
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
            if let training = trainingJobs[done.jobID] {
                finishTrainingExport(training, result: done.result)
                continue
            }
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
        forgetJob(job.id)
        let best = job.run.best.map { String(format: "%.4f (arm %@)", $0.f1, $0.arm.description) } ?? "none"
        logger.info("job \(job.id) done: best F1 \(best)\(exportPath.map { ", exported to \($0)" } ?? "")\(message.map { "; \($0)" } ?? "")")
    }
}
