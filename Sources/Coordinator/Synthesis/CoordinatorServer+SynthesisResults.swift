import Cluster
import Foundation
import GuardData
import Runtime

/// Results of synthesize batches: checked (`SynthesisResultCheck`), then deduplicated centrally against everything
/// the job accepted — exactly, and with embedding dedup on by the coordinator's own embeddings of the batch's text,
/// computed off the loop (`SynthesisEmbedding`) — and committed with the task in one transaction, then appended to
/// the output. A batch waiting for its embeddings holds a completed lease and is acknowledged when it commits.
extension CoordinatorServer {
    /// A task result of a synthesize job (batch samples in the raw frame, or a refinement). True when the task is one.
    /// It counts only as the lease holder's result for the current attempt and only if it is possible.
    func handleSynthesisResult(_ result: Uniguard_V1_TaskResult, raw: [Data], from workerID: String) -> Bool {
        guard let job = synthesisJob(forTask: result.taskID) else { return false }
        var acknowledge = true
        defer { if acknowledge { pendingAcks[workerID, default: []].append(result.taskID) } }
        switch leases.verdict(result.taskID, worker: workerID, attempt: Int(result.attempt)) {
        case .accepted: break
        case .duplicate:
            // Counted once already; one still waiting for its embeddings is acknowledged when it commits.
            acknowledge = !job.awaitsEmbedding(result.taskID)
            logger.debug("result for \(LogSafe.text(result.taskID)) from \(workerID) was already counted")
            return true
        case .rejected(let why):
            rejectLog.warning("result for \(LogSafe.text(result.taskID)) (attempt \(result.attempt)) from worker \(workerID) rejected: \(why)")
            return true
        case .cancelled, .unknown:
            logger.debug("result for \(LogSafe.text(result.taskID)) from \(workerID) is for no running task; ignored")
            return true
        }
        guard let lease = leases.task(result.taskID) else { return true }
        if lease.armID < 0 {
            handleRefineResult(job, lease: lease, result: result, worker: workerID)
            return true
        }
        guard let batch = job.inFlight[lease.armID] else { return true }
        switch result.outcome {
        case .synthBatch(let r):
            let checked: SynthesisResultCheck.Checked
            do {
                checked = try SynthesisResultCheck.check(r, raw: raw, batch: batch, prepared: job.prepared, taskID: result.taskID)
            } catch {
                synthesisTaskFailed(job, result.taskID, reason: "\(error)", worker: workerID)
                return true
            }
            guard case .accepted = leases.complete(result.taskID, worker: workerID, attempt: Int(result.attempt)) else { return true }
            failures.recordSuccess(worker: workerID)
            var pending = SynthesisRuntime.PendingBatch(batch: batch, taskID: result.taskID, result: r, samples: checked.samples,
                                                        disagreements: checked.disagreements, rows: [:], elapsedMs: result.elapsedMs, worker: workerID)
            guard let embedding = job.embedding else {
                commitBatch(job, pending, embedded: nil)
                return true
            }
            // Only what is not already an exact duplicate is embedded (exact dedup only grows, so it stays one).
            let candidates = job.exactCandidates(checked.samples)
            pending.rows = Dictionary(uniqueKeysWithValues: candidates.enumerated().map { ($1, $0) })
            let ticket = job.nextTicket
            job.nextTicket += 1
            job.embeddingWork[ticket] = .batch(pending)
            embedding.embed(ticket: ticket, prompts: candidates.map { checked.samples[$0].prompt })
            acknowledge = false
        case .error(let error):
            synthesisTaskFailed(job, result.taskID, reason: LogSafe.text(error.message), worker: workerID)
        default:
            synthesisTaskFailed(job, result.taskID, reason: "a result of the wrong kind for a synthesize batch", worker: workerID)
        }
        return true
    }

    /// Embeddings that came back (each job's in the order asked): a restart's window rebuild feeds the filter; a batch
    /// is filtered and committed, and its worker acknowledged. An encoder that cannot run fails the job.
    func finishSynthesisEmbeddings() {
        for id in jobOrder {
            guard let job = synthesisJobs[id], let embedding = job.embedding else { continue }
            for done in embedding.takeFinished() {
                guard job.state == .running, let work = job.embeddingWork.removeValue(forKey: done.ticket) else { continue }
                switch (done.result, work) {
                case (.failure(let error), _):
                    if case .batch(let pending) = work { pendingAcks[pending.worker, default: []].append(pending.taskID) }
                    stopSynthesis(job, state: .failed, message: "near-duplicate filtering: \(error). Accepted samples are kept in \(job.output.path); set embedding_dedup: false (or fix embed_model) to go on without it")
                case (.success(let rows), .window(let groups)):
                    if let near = job.nearFilter(dimension: rows.dimension), rows.count == groups.count, rows.count > 0 {
                        _ = rows.data.withUnsafeBufferPointer { near.filter($0.baseAddress!, rows: rows.count, groups: groups) }
                    }
                case (.success(let rows), .batch(let pending)):
                    commitBatch(job, pending, embedded: rows)
                    pendingAcks[pending.worker, default: []].append(pending.taskID)
                }
            }
        }
    }

    /// Dedups a checked batch against everything accepted (exact: policy, label, normalised prompt; then, given its
    /// rows, by embedding against the window and the batch's earlier prompts), keeps what its groups still need,
    /// commits task, batch, sample lines and disagreements in one transaction, then appends the lines to the output.
    private func commitBatch(_ job: SynthesisRuntime, _ p: SynthesisRuntime.PendingBatch, embedded: SynthesisEmbedding.Rows?) {
        let batch = p.batch, r = p.result, worker = p.worker
        let now = UnixTime.nowMs()
        var outcome = SynthesisBatchOutcome(commitSeq: job.lastCommitSeq + 1, worker: worker, generated: Int(r.generated),
                                            relabelled: Int(r.relabelled), dropped: Int(r.rejected), requests: Int(r.requests),
                                            promptTokens: Int(r.promptTokens), completionTokens: Int(r.completionTokens), retries: Int(r.retries))
        // Exact again: batches committed while this one was embedded count too.
        let candidates = job.exactCandidates(p.samples)
        outcome.duplicates = p.samples.count - candidates.count
        let keep = nearKeep(job, p, candidates: candidates, embedded: embedded)
        var added: [SafetyLabel: Int] = [:]
        var lines: [(policy: String, label: String, line: String)] = []
        var kept: [Sample] = []
        for (k, i) in candidates.enumerated() {
            let sample = p.samples[i]
            guard keep[k] else {
                outcome.nearDuplicates += 1
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
        tally.generated += outcome.generated; tally.duplicates += outcome.duplicates; tally.nearDuplicates += outcome.nearDuplicates
        tally.surplus += outcome.surplus; tally.relabelled += outcome.relabelled; tally.dropped += outcome.dropped; tally.batches += 1
        job.tallies[batch.policy] = tally
        job.requests += outcome.requests; job.promptTokens += outcome.promptTokens
        job.completionTokens += outcome.completionTokens; job.retries += outcome.retries
        do {
            try store.transaction {
                try store.completeSynthesisTask(p.taskID, worker: worker, elapsedMs: min(p.elapsedMs, UInt64(Int64.max)), completedMs: now)
                try store.commitSynthesisBatch(job: job.id, batch: batch.number, outcome: outcome, lines: lines,
                                               disagreements: p.disagreements, completedMs: now)
            }
        } catch { storeFailed(error, "synthesis batch") }
        // Done: nothing about the task is needed in memory any more (a late repeat of the result is acknowledged).
        leases.remove(task: p.taskID)
        failures.forgetTasks { $0 == p.taskID }
        appendOutput(job, lines.map(\.line))
        logger.info("\(job.id): batch \(batch.number) (\(batch.key)/\(batch.sequence)) from \(worker): \(lines.count) accepted, \(outcome.duplicates) duplicates, \(outcome.nearDuplicates) near duplicates, \(outcome.surplus) surplus; \(job.acceptedTotal)/\(job.target)")
        let key = batch.key
        let full = job.accepted(batch.policy, batch.label) >= job.spec.count
        job.fruitless[key] = job.accepted(batch.policy, batch.label) > before || full ? 0 : job.fruitless[key, default: 0] + 1
        if job.complete {
            samplesComplete(job)
        } else if job.fruitless[key, default: 0] >= job.spec.maxFruitlessBatches {
            stopSynthesis(job, state: .failed, message: "\(key): the last \(job.spec.maxFruitlessBatches) batches added no new sample (all duplicates, relabelled away or surplus); raise temperature or lower count. Accepted samples are kept in \(job.output.path)")
        }
    }

    /// Keep flags for `candidates` (indices into the batch's samples) from the near-duplicate filter: each row is
    /// compared with its group's window and the batch's earlier kept rows; kept rows join the window. All true
    /// without rows (exact dedup only).
    private func nearKeep(_ job: SynthesisRuntime, _ p: SynthesisRuntime.PendingBatch, candidates: [Int],
                          embedded: SynthesisEmbedding.Rows?) -> [Bool] {
        var keep = [Bool](repeating: true, count: candidates.count)
        guard let rows = embedded, !candidates.isEmpty, let near = job.nearFilter(dimension: rows.dimension) else { return keep }
        // Every candidate now was one when the batch was sent (exact dedup only grows), so each has its row.
        let d = rows.dimension
        let present = candidates.indices.filter { p.rows[candidates[$0]].map { $0 < rows.count } ?? false }
        guard !present.isEmpty else { return keep }
        var gathered = [Float](repeating: 0, count: present.count * d)
        gathered.withUnsafeMutableBufferPointer { out in
            rows.data.withUnsafeBufferPointer { src in
                for (j, k) in present.enumerated() {
                    let row = p.rows[candidates[k]]!
                    (out.baseAddress! + j * d).update(from: src.baseAddress! + row * d, count: d)
                }
            }
        }
        let groups = present.map { k in
            let s = p.samples[candidates[k]]
            return job.nearGroup(s.policy, s.label) ?? 0
        }
        let flags = gathered.withUnsafeBufferPointer { near.filter($0.baseAddress!, rows: present.count, groups: groups) }
        for (j, k) in present.enumerated() { keep[k] = flags[j] }
        return keep
    }

    /// Appends committed lines; when that fails, the file is rebuilt from the store (it holds every accepted line).
    private func appendOutput(_ job: SynthesisRuntime, _ lines: [String]) {
        do {
            if job.output.needsRebuild { try job.output.restore(lines: try store.loadSynthesisSamples(job: job.id).map(\.line)) } else { try job.output.append(lines: lines) }
        } catch {
            logger.error("\(job.id): cannot write \(job.output.path): \(error); the samples are committed in the store and the file is rebuilt from it at the next batch or restart")
        }
    }

    // MARK: Failures

    /// The holder's attempt failed (an endpoint error, an impossible result): charged to it, and the task goes back
    /// to the queue for a worker that has not failed it; enough distinct workers failing a batch fails the job (a
    /// refinement only loses its suggestion).
    func synthesisTaskFailed(_ job: SynthesisRuntime, _ taskID: String, reason: String, worker: String) {
        guard let lease = leases.task(taskID), lease.state == .leased else { return }
        logger.warning("task \(taskID) failed on \(worker) (attempt \(lease.attempt)): \(reason)")
        guard chargeSynthesisFailure(job, lease, worker: worker, reason: reason) else { return }
        if let requeued = leases.requeue(taskID) { persistLeases([requeued], "failed task") }
    }

    /// A lease of a synthesize task ran its full term: a failure of its holder. True when `lease` is one.
    func synthesisLeaseExpired(_ lease: TaskLease) -> Bool {
        guard let job = synthesisJobs[lease.jobID] else { return false }
        if job.state == .running, let worker = lease.workerID {
            chargeSynthesisFailure(job, lease, worker: worker, reason: "lease expired after \(config.leaseTimeoutMs) ms")
        }
        return true
    }

    /// False when the task is not to be retried (the job failed, or a refinement gave up).
    @discardableResult
    private func chargeSynthesisFailure(_ job: SynthesisRuntime, _ lease: TaskLease, worker: String, reason: String) -> Bool {
        let outcome = failures.recordFailure(task: lease.taskID, worker: worker, nowUnixMs: UnixTime.nowMs())
        if outcome.quarantinedWorker {
            logger.warning("worker \(worker) failed \(failures.failuresToQuarantine) tasks in a row; quarantined for \(failures.quarantineMs / 1000) s (no tasks)")
        }
        guard outcome.failsJob else { return true }
        let because = "failed on \(outcome.workers.count) distinct workers (\(outcome.workers.joined(separator: ", "))); last error: \(reason)"
        if lease.armID < 0 {
            refinementFailed(job, lease, message: because)
        } else {
            stopSynthesis(job, state: .failed, message: "task \(lease.taskID) \(because). Accepted samples are kept in \(job.output.path)")
        }
        return false
    }
}
