import Cluster
import Foundation
import GuardData
import Runtime

/// Synthesize jobs (issue 14): policies × count split into batches, leased to workers through the same `LeaseTable`
/// as merge arms (leases, attempts, expiry, requeue on worker loss, failure ledger), results counted only from the
/// lease holder's current attempt, deduplicated centrally (exactly, over every accepted sample), committed to the
/// store and then appended to the output.
extension CoordinatorServer {
    // MARK: Restore and submit

    /// Synthesize jobs from the store: counts, dedup state and the output rebuilt; batches in flight go back to the
    /// lease table (leased ones with a short grace window for their worker to re-register). Returns how many resumed.
    func restoreSynthesis() throws -> Int {
        var resumed = 0
        let graceMs = UInt64(max(10_000, 4 * config.liveness * config.heartbeatIntervalMs))
        let now = UnixTime.nowMs()
        for stored in try store.loadSynthesisJobs() {
            let job = SynthesisRuntime(stored, outputPath: synthesisOutput(stored.prepared.spec, id: stored.id))
            synthesisJobs[job.id] = job
            let batches = try store.loadSynthesisBatches(job: job.id)
            let samples = try store.loadSynthesisSamples(job: job.id)
            do { try job.restore(batches: batches, samples: samples, writeOutput: !job.state.isTerminal) } catch {
                logger.error("\(job.id): cannot restore the output \(job.output.path) from the store: \(error)")
            }
            guard !job.state.isTerminal else { continue }
            resumed += 1
            for task in try store.loadTasks(job: job.id) {
                switch task.lease.state {
                case .queued: leases.insert(task.lease)
                case .leased:
                    var lease = task.lease
                    lease.deadlineUnixMs = min(lease.deadlineUnixMs, now + graceMs)
                    leases.insert(lease)
                case .done, .cancelled: break
                }
            }
            logger.info("resumed \(job.id) (synthesize): \(job.acceptedTotal)/\(job.target) samples in \(job.batchesDone) batches, \(job.inFlight.count) batches in flight; output \(job.output.path)")
            if job.complete { finishSynthesis(job) }
        }
        return resumed
    }

    /// `output`, or `<exports>/<job-id>/samples.jsonl`.
    func synthesisOutput(_ spec: SynthesisJobSpec, id: String) -> String {
        spec.output ?? (config.exportDirectory as NSString).appendingPathComponent("\(id)/samples.jsonl")
    }

    func createSynthesisJob(_ prepared: PreparedSynthesis, yaml: String, submitter: String) throws -> String {
        if let output = prepared.spec.output,
           let other = synthesisJobs.values.first(where: { !$0.state.isTerminal && $0.output.path == output }) {
            throw JobSpecError(source: prepared.spec.name, key: "output", reason: "\(output) is the output of \(other.id), still running")
        }
        let now = UnixTime.nowMs()
        let id: String
        do {
            id = try store.transaction { () throws -> String in
                let (id, seq) = try store.nextJobID(skipping: exportTaken)
                try store.insertSynthesisJob(StoredSynthesisJob(id: id, specYAML: yaml, prepared: prepared, state: .running,
                                                                submitter: submitter, createdMs: now), seq: seq)
                return id
            }
        } catch { storeFailed(error, "job submission") }
        let stored = StoredSynthesisJob(id: id, specYAML: yaml, prepared: prepared, state: .running, submitter: submitter, createdMs: now)
        let job = SynthesisRuntime(stored, outputPath: synthesisOutput(prepared.spec, id: id))
        do { try job.output.restore(lines: []) } catch {
            logger.error("\(id): cannot create the output \(job.output.path): \(error)")
        }
        synthesisJobs[id] = job
        jobOrder.append(id)
        let spec = prepared.spec
        logger.info("job \(id) submitted by \(LogSafe.text(submitter, limit: 100)): synthesize \(spec.count) per label for \(prepared.policies.map(\.id).joined(separator: ", ")) with \(LogSafe.text(spec.model, limit: 100)) at \(LogSafe.text(spec.endpoint, limit: 200)), batch \(spec.batch), output \(job.output.path)")
        return id
    }

    /// The synthesize job a task id belongs to (`job-N/batch-B`).
    func synthesisJob(forTask taskID: String) -> SynthesisRuntime? {
        guard let range = taskID.range(of: "/batch-") else { return nil }
        return synthesisJobs[String(taskID[..<range.lowerBound])]
    }

    // MARK: Planning and leasing

    /// Whether `worker` may take queued task `task` of a synthesize job: the job runs and the worker holds fewer than
    /// `concurrency` of its batches. False for tasks of other jobs (their own rule applies).
    func synthesisMayLease(_ task: TaskLease, to worker: String) -> Bool {
        guard let job = synthesisJobs[task.jobID], job.state == .running else { return false }
        return leases.leased(by: worker).filter { $0.jobID == job.id }.count < job.spec.concurrency
    }

    /// Issues batches of running synthesize jobs (submission order) while slots are free and groups need samples;
    /// each batch is committed (row + queued task) before `dispatch` leases it.
    func planSynthesis() {
        guard !synthesisJobs.isEmpty else { return }
        let now = UnixTime.nowMs()
        var free = 0
        for member in membership.members.values where !failures.isQuarantined(member.id, nowUnixMs: now) {
            let leased = leases.leased(by: member.id)
            free += max(0, member.slots - leased.count - trainingSlots(of: member.id))
        }
        guard free > 0 else { return }
        var issued: [(SynthesisRuntime, SynthesisRuntime.Batch, TaskLease)] = []
        for id in jobOrder {
            guard free > 0, let job = synthesisJobs[id], job.state == .running else { continue }
            let queued = leases.tasks.values.filter { $0.jobID == id && $0.state == .queued }.count
            var room = free - queued
            while room > 0, let batch = job.planBatch() {
                let task = TaskLease(taskID: SynthesisRuntime.taskID(job: id, batch: batch.number), jobID: id, armID: batch.number, shard: 0)
                job.inFlight[batch.number] = batch
                leases.insert(task)
                issued.append((job, batch, task))
                room -= 1
                free -= 1
            }
        }
        guard !issued.isEmpty else { return }
        do {
            try store.transaction {
                for (job, b, task) in issued {
                    try store.insertSynthesisBatch(job: job.id, StoredSynthesisBatch(batch: b.number, policy: b.policy, label: b.label.rawValue,
                                                                                    sequence: b.sequence, count: b.count, state: "issued"), issuedMs: now)
                    try store.insertTask(task)
                }
            }
        } catch { storeFailed(error, "synthesis batches") }
    }

    /// Sends a leased batch; true when the task is a synthesize batch (sent, or requeued when the worker is unreachable).
    func sendSynthesisAssignment(_ lease: TaskLease, to workerID: String) -> Bool {
        guard let job = synthesisJobs[lease.jobID] else { return false }
        guard let batch = job.inFlight[lease.armID], let member = membership.member(workerID) else {
            if let requeued = leases.requeue(lease.taskID) { persistLeases([requeued], "requeue") }
            return true
        }
        let assignment = job.prepared.assignment(taskID: lease.taskID, attempt: lease.attempt, deadlineUnixMs: lease.deadlineUnixMs,
                                                 policy: batch.policy, label: batch.label, sequence: batch.sequence, count: batch.count)
        if !send(.taskAssignment(assignment), to: member.routingID, jobID: job.id) {
            if let requeued = leases.requeue(lease.taskID) { persistLeases([requeued], "requeue") }
        }
        return true
    }

    // MARK: Results

    /// A batch result (the samples in the raw frame). True when the task is a synthesize batch. It counts only as the
    /// lease holder's result for the current attempt and only if `SynthesisResultCheck` finds it possible.
    func handleSynthesisResult(_ result: Uniguard_V1_TaskResult, raw: [Data], from workerID: String) -> Bool {
        guard let job = synthesisJob(forTask: result.taskID) else { return false }
        pendingAcks[workerID, default: []].append(result.taskID)
        switch leases.verdict(result.taskID, worker: workerID, attempt: Int(result.attempt)) {
        case .accepted: break
        case .duplicate:
            logger.debug("result for \(LogSafe.text(result.taskID)) from \(workerID) was already counted; acknowledged again")
            return true
        case .rejected(let why):
            rejectLog.warning("result for \(LogSafe.text(result.taskID)) (attempt \(result.attempt)) from worker \(workerID) rejected: \(why)")
            return true
        case .cancelled, .unknown:
            logger.debug("result for \(LogSafe.text(result.taskID)) from \(workerID) is for no running task; ignored")
            return true
        }
        guard let lease = leases.task(result.taskID), let batch = job.inFlight[lease.armID] else { return true }
        switch result.outcome {
        case .synthBatch(let r):
            do {
                let samples = try SynthesisResultCheck.samples(r, raw: raw, batch: batch, prepared: job.prepared, taskID: result.taskID)
                commitBatch(job, batch: batch, result: r, samples: samples, attempt: Int(result.attempt), elapsedMs: result.elapsedMs, worker: workerID)
            } catch {
                synthesisTaskFailed(job, result.taskID, reason: "\(error)", worker: workerID)
            }
        case .error(let error):
            synthesisTaskFailed(job, result.taskID, reason: LogSafe.text(error.message), worker: workerID)
        default:
            synthesisTaskFailed(job, result.taskID, reason: "a result of the wrong kind for a synthesize batch", worker: workerID)
        }
        return true
    }

    /// Dedups a checked batch against everything accepted (exact: policy, label, normalised prompt), keeps what its
    /// groups still need, commits task, batch and sample lines in one transaction, then appends them to the output.
    private func commitBatch(_ job: SynthesisRuntime, batch: SynthesisRuntime.Batch, result r: Uniguard_V1_SynthBatchResult,
                             samples: [Sample], attempt: Int, elapsedMs: UInt64, worker: String) {
        let taskID = SynthesisRuntime.taskID(job: job.id, batch: batch.number)
        guard case .accepted = leases.complete(taskID, worker: worker, attempt: attempt) else { return }
        failures.recordSuccess(worker: worker)
        let now = UnixTime.nowMs()
        var outcome = SynthesisBatchOutcome(commitSeq: job.lastCommitSeq + 1, worker: worker, generated: Int(r.generated),
                                            relabelled: Int(r.relabelled), dropped: Int(r.rejected), requests: Int(r.requests),
                                            promptTokens: Int(r.promptTokens), completionTokens: Int(r.completionTokens), retries: Int(r.retries))
        var inBatch = ExactDeduplicator()
        var added: [SafetyLabel: Int] = [:]
        var lines: [(policy: String, label: String, line: String)] = []
        var kept: [Sample] = []
        for sample in samples {
            if job.exact.contains(policy: sample.policy, label: sample.label, prompt: sample.prompt)
                || !inBatch.insert(policy: sample.policy, label: sample.label, prompt: sample.prompt) {
                outcome.duplicates += 1
                continue
            }
            guard job.accepted(sample.policy, sample.label) + added[sample.label, default: 0] < job.spec.count else {
                outcome.surplus += 1
                continue
            }
            added[sample.label, default: 0] += 1
            kept.append(sample)
            lines.append((sample.policy, sample.label.rawValue, SampleCodec.encode(sample)))
        }
        outcome.accepted = lines.count
        let before = job.accepted(batch.policy, batch.label)
        // Memory follows the commit below (a failed commit exits the coordinator).
        job.inFlight[batch.number] = nil
        job.lastCommitSeq = outcome.commitSeq
        job.batchesDone += 1
        for sample in kept {
            _ = job.exact.insert(policy: sample.policy, label: sample.label, prompt: sample.prompt)
        }
        var tally = job.tallies[batch.policy, default: SynthesisRuntime.PolicyTally()]
        for (label, n) in added { tally.accepted[label, default: 0] += n }
        tally.generated += outcome.generated; tally.duplicates += outcome.duplicates; tally.surplus += outcome.surplus
        tally.relabelled += outcome.relabelled; tally.dropped += outcome.dropped; tally.batches += 1
        job.tallies[batch.policy] = tally
        job.requests += outcome.requests; job.promptTokens += outcome.promptTokens
        job.completionTokens += outcome.completionTokens; job.retries += outcome.retries
        do {
            try store.transaction {
                try store.completeSynthesisTask(taskID, worker: worker, elapsedMs: min(elapsedMs, UInt64(Int64.max)), completedMs: now)
                try store.commitSynthesisBatch(job: job.id, batch: batch.number, outcome: outcome, lines: lines, completedMs: now)
            }
        } catch { storeFailed(error, "synthesis batch") }
        appendOutput(job, lines.map(\.line))
        logger.info("\(job.id): batch \(batch.number) (\(batch.key)/\(batch.sequence)) from \(worker): \(lines.count) accepted, \(outcome.duplicates) duplicates, \(outcome.surplus) surplus; \(job.acceptedTotal)/\(job.target)")
        let key = batch.key
        let full = job.accepted(batch.policy, batch.label) >= job.spec.count
        job.fruitless[key] = job.accepted(batch.policy, batch.label) > before || full ? 0 : job.fruitless[key, default: 0] + 1
        if job.complete {
            finishSynthesis(job)
        } else if job.fruitless[key, default: 0] >= job.spec.maxFruitlessBatches {
            stopSynthesis(job, state: .failed, message: "\(key): the last \(job.spec.maxFruitlessBatches) batches added no new sample (all duplicates, relabelled away or surplus); raise temperature or lower count. Accepted samples are kept in \(job.output.path)")
        }
    }

    /// Appends committed lines; when that fails, the file is rebuilt from the store (it holds every accepted line).
    private func appendOutput(_ job: SynthesisRuntime, _ lines: [String]) {
        do {
            if job.output.needsRebuild { try job.output.restore(lines: try store.loadSynthesisSamples(job: job.id).map(\.line)) } else { try job.output.append(lines: lines) }
        } catch {
            logger.error("\(job.id): cannot write \(job.output.path): \(error); the samples are committed in the store and the file is rebuilt from it at the next batch or restart")
        }
    }

    /// The holder's attempt failed (an endpoint error, an impossible result): charged to it, and the batch goes back
    /// to the queue for a worker that has not failed it; enough distinct workers failing it fails the job.
    func synthesisTaskFailed(_ job: SynthesisRuntime, _ taskID: String, reason: String, worker: String) {
        guard let lease = leases.task(taskID), lease.state == .leased else { return }
        logger.warning("task \(taskID) failed on \(worker) (attempt \(lease.attempt)): \(reason)")
        guard chargeSynthesisFailure(job, taskID, worker: worker, reason: reason) else { return }
        if let requeued = leases.requeue(taskID) { persistLeases([requeued], "failed task") }
    }

    /// A lease of a synthesize batch ran its full term: a failure of its holder. True when `lease` is one.
    func synthesisLeaseExpired(_ lease: TaskLease) -> Bool {
        guard let job = synthesisJobs[lease.jobID] else { return false }
        if job.state == .running, let worker = lease.workerID {
            chargeSynthesisFailure(job, lease.taskID, worker: worker, reason: "lease expired after \(config.leaseTimeoutMs) ms")
        }
        return true
    }

    @discardableResult
    private func chargeSynthesisFailure(_ job: SynthesisRuntime, _ taskID: String, worker: String, reason: String) -> Bool {
        let outcome = failures.recordFailure(task: taskID, worker: worker, nowUnixMs: UnixTime.nowMs())
        if outcome.quarantinedWorker {
            logger.warning("worker \(worker) failed \(failures.failuresToQuarantine) tasks in a row; quarantined for \(failures.quarantineMs / 1000) s (no tasks)")
        }
        guard outcome.failsJob else { return true }
        stopSynthesis(job, state: .failed, message: "task \(taskID) failed on \(outcome.workers.count) distinct workers (\(outcome.workers.joined(separator: ", "))); last error: \(reason). Accepted samples are kept in \(job.output.path)")
        return false
    }

    // MARK: Finish, cancel, fail

    func finishSynthesis(_ job: SynthesisRuntime) {
        stopSynthesis(job, state: .done, message: nil)
        logger.info("job \(job.id) done: \(job.acceptedTotal) samples in \(job.batchesDone) batches written to \(job.output.path); \(job.requests) requests, \(job.promptTokens) prompt + \(job.completionTokens) completion tokens")
    }

    /// `coordinator cancel` of a synthesize job; true when `cancel` names one.
    func cancelSynthesis(_ cancel: Uniguard_V1_CancelJob, from peer: Data, requestID: UInt64) -> Bool {
        guard let job = synthesisJobs[cancel.jobID] else { return false }
        if !job.state.isTerminal {
            stopSynthesis(job, state: .cancelled, message: cancelMessage(cancel))
            logger.info("job \(job.id) cancelled")
        }
        sendCancelReply(jobID: job.id, state: job.state, to: peer, requestID: requestID)
        return true
    }

    /// Ends a job: batches in flight dropped (their workers told), state committed; accepted samples stay in the output.
    func stopSynthesis(_ job: SynthesisRuntime, state: JobState, message: String?) {
        if state == .failed, let message { logger.error("job \(job.id) failed: \(message)") }
        let wasLeased = leases.cancel(job: job.id)
        job.inFlight = [:]
        job.state = state
        job.message = message
        job.finishedMs = UnixTime.nowMs()
        do {
            try store.transaction {
                try store.cancelTasks(job: job.id)
                try store.cancelSynthesisBatches(job: job.id)
                try store.setJobState(job.id, state, finishedMs: job.finishedMs, exportPath: job.output.path, message: message)
            }
        } catch { storeFailed(error, "job stop") }
        tellWorkersToDrop(wasLeased, job: job.id, reason: message ?? "job done")
        forgetJob(job.id)
    }
}
