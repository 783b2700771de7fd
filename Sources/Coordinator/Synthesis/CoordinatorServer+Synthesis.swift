import Cluster
import Foundation
import GuardData
import Runtime

/// Synthesize jobs (issue 14): policies × count split into batches, leased to workers through the same `LeaseTable`
/// as merge arms (leases, attempts, expiry, requeue on worker loss, failure ledger), results counted only from the
/// lease holder's current attempt, deduplicated centrally (exactly, then by the coordinator's own embeddings),
/// committed to the store and then appended to the output (CoordinatorServer+SynthesisResults); then, with
/// `refine_policy`, one refine task per policy (CoordinatorServer+SynthesisRefine).
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
            for refinement in try store.loadSynthesisRefinements(job: job.id) { job.refinements[refinement.policy] = refinement }
            guard !job.state.isTerminal else { continue }
            resumed += 1
            startEmbedding(job, accepted: samples)
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
            if job.complete { samplesComplete(job) }
        }
        return resumed
    }

    /// Starts the job's encoder queue when it filters near duplicates; after a restart its first request rebuilds the
    /// window from the accepted samples (each group's last `near_dup_window`), before any batch is compared.
    func startEmbedding(_ job: SynthesisRuntime, accepted lines: [(policy: String, label: String, line: String)]) {
        guard let model = job.spec.nearDuplicates?.embedModel else { return }
        let embedding = SynthesisEmbedding(jobID: job.id, modelDirectory: model, wake: wake)
        job.embedding = embedding
        let recent = job.windowSamples(lines)
        guard !recent.isEmpty else { return }
        let ticket = job.nextTicket
        job.nextTicket += 1
        job.embeddingWork[ticket] = .window(groups: recent.map(\.group))
        embedding.embed(ticket: ticket, prompts: recent.map(\.sample.prompt))
        logger.info("\(job.id): rebuilding the near-duplicate window from \(recent.count) accepted samples")
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
        startEmbedding(job, accepted: [])
        let spec = prepared.spec
        let near = spec.nearDuplicates.map { "near duplicates at cosine ≥ \($0.threshold) (window \($0.window), \($0.embedModel ?? "-"))" } ?? "exact dedup only"
        logger.info("job \(id) submitted by \(LogSafe.text(submitter, limit: 100)): synthesize \(spec.count) per label for \(prepared.policies.map(\.id).joined(separator: ", ")) with \(LogSafe.text(spec.model, limit: 100)) at \(LogSafe.text(spec.endpoint, limit: 200)), batch \(spec.batch), \(near)\(spec.refines ? ", refine_policy" : ""), output \(job.output.path)")
        return id
    }

    /// The synthesize job a task id belongs to (`job-N/batch-B`, `job-N/refine-K`).
    func synthesisJob(forTask taskID: String) -> SynthesisRuntime? {
        guard let slash = taskID.firstIndex(of: "/") else { return nil }
        return synthesisJobs[String(taskID[..<slash])]
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
        let assignment: Uniguard_V1_TaskAssignment?
        if lease.armID < 0 {
            assignment = refineAssignment(job, lease)
        } else {
            assignment = job.inFlight[lease.armID].map { batch in
                job.prepared.assignment(taskID: lease.taskID, attempt: lease.attempt, deadlineUnixMs: lease.deadlineUnixMs,
                                        policy: batch.policy, label: batch.label, sequence: batch.sequence, count: batch.count)
            }
        }
        guard let assignment, let member = membership.member(workerID) else {
            if let requeued = leases.requeue(lease.taskID) { persistLeases([requeued], "requeue") }
            return true
        }
        if !send(.taskAssignment(assignment), to: member.routingID, jobID: job.id) {
            if let requeued = leases.requeue(lease.taskID) { persistLeases([requeued], "requeue") }
        }
        return true
    }

    // MARK: Finish, cancel, fail

    func finishSynthesis(_ job: SynthesisRuntime) {
        let unwritten = job.refinements.values.filter { $0.state == "failed" }.map { "\($0.policy): \($0.message ?? "failed")" }.sorted()
        stopSynthesis(job, state: .done, message: unwritten.isEmpty ? nil : "refine_policy wrote no suggestion for " + unwritten.joined(separator: "; "))
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
        // Results waiting for their embeddings will not commit: their workers may forget them.
        for case .batch(let pending) in job.embeddingWork.values { pendingAcks[pending.worker, default: []].append(pending.taskID) }
        job.embeddingWork = [:]
        job.embedding = nil
        job.near = nil
        for (policy, r) in job.refinements where r.state == "pending" { job.refinements[policy]?.state = "cancelled" }
        do {
            try store.transaction {
                try store.cancelTasks(job: job.id)
                try store.cancelSynthesisBatches(job: job.id)
                try store.cancelSynthesisRefinements(job: job.id)
                try store.setJobState(job.id, state, finishedMs: job.finishedMs, exportPath: job.output.path, message: message)
            }
        } catch { storeFailed(error, "job stop") }
        tellWorkersToDrop(wasLeased, job: job.id, reason: message ?? "job done")
        forgetJob(job.id)
    }
}
