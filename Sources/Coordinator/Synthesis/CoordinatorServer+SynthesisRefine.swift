import Cluster
import Foundation
import GuardData
import Runtime

/// `refine_policy` for synthesize jobs: when every (policy, label) has its count, one refine task per policy with
/// disagreements asks the model (through a worker: only workers hold the API key, read from their own environment,
/// so it never reaches the coordinator, its store or its log) to critique the policy from its most recent
/// disagreements and propose a revision. The coordinator checks the reply (it must parse as the same policy) and
/// writes it beside the job's output (`SuggestionFile`); the policy itself is never touched. The job is done when every
/// policy has a suggestion, none to make, or a refinement that failed on enough distinct workers (said in its message).
extension CoordinatorServer {
    /// Every group has its count: the job is done, or (refine_policy) its refinements begin or go on.
    func samplesComplete(_ job: SynthesisRuntime) {
        guard job.spec.refines else {
            finishSynthesis(job)
            return
        }
        if job.refinements.isEmpty { beginRefinement(job) }
        if job.refinementsDone { finishSynthesis(job) }
    }

    /// A row per policy (pending with a queued task when it has disagreements, else skipped), committed together.
    private func beginRefinement(_ job: SynthesisRuntime) {
        let counts: [String: Int]
        do { counts = try store.synthesisDisagreementCounts(job: job.id) } catch { storeFailed(error, "disagreement counts") }
        var rows: [StoredRefinement] = []
        var tasks: [TaskLease] = []
        for (i, policy) in job.prepared.policies.enumerated() {
            let n = counts[policy.id] ?? 0
            rows.append(StoredRefinement(policy: policy.id, state: n > 0 ? "pending" : "skipped", path: nil,
                                         message: n > 0 ? nil : "no disagreements to refine from", disagreements: n))
            if n > 0 {
                tasks.append(TaskLease(taskID: SynthesisRuntime.refineTaskID(job: job.id, policyIndex: i), jobID: job.id,
                                       armID: SynthesisRuntime.refineArmID(policyIndex: i), shard: 0))
            }
        }
        do {
            try store.transaction {
                for r in rows { try store.insertSynthesisRefinement(job: job.id, r) }
                for t in tasks { try store.insertTask(t) }
            }
        } catch { storeFailed(error, "policy refinement") }
        for r in rows { job.refinements[r.policy] = r }
        for t in tasks { leases.insert(t) }
        logger.info("\(job.id): samples done; asking for revisions of \(tasks.count) of \(rows.count) policies from their disagreements (refine_policy)")
    }

    /// The task for a refine lease: the policy and its most recent disagreements (read from the store); nil when the
    /// lease names no policy of the job.
    func refineAssignment(_ job: SynthesisRuntime, _ lease: TaskLease) -> Uniguard_V1_TaskAssignment? {
        guard let policy = job.refinePolicy(armID: lease.armID) else { return nil }
        let recent: [JobDisagreement]
        do {
            recent = try store.recentSynthesisDisagreements(job: job.id, policy: policy.id, limit: PreparedSynthesis.refineDisagreements)
        } catch { storeFailed(error, "disagreements") }
        return job.prepared.refineAssignment(taskID: lease.taskID, attempt: lease.attempt, deadlineUnixMs: lease.deadlineUnixMs,
                                             policy: policy.id, disagreements: recent)
    }

    /// The holder's answer to a refine task: checked, written beside the output (then committed, so a crash between the
    /// two asks again and writes the next free name, never over the first).
    func handleRefineResult(_ job: SynthesisRuntime, lease: TaskLease, result: Uniguard_V1_TaskResult, worker: String) {
        guard let policy = job.refinePolicy(armID: lease.armID) else { return }
        switch result.outcome {
        case .synthRefine(let r):
            let suggestion: (critique: String, yaml: String)
            do { suggestion = try SynthesisResultCheck.suggestion(r, policyID: policy.id, taskID: result.taskID) } catch {
                synthesisTaskFailed(job, result.taskID, reason: "\(error)", worker: worker)
                return
            }
            guard case .accepted = leases.complete(result.taskID, worker: worker, attempt: Int(result.attempt)) else { return }
            failures.recordSuccess(worker: worker)
            var refinement = job.refinements[policy.id] ?? StoredRefinement(policy: policy.id, state: "pending", disagreements: 0)
            let shown = min(refinement.disagreements, PreparedSynthesis.refineDisagreements)
            let text = SuggestionFile.text(policy: policy.id, model: job.spec.model, jobID: job.id, disagreements: refinement.disagreements,
                                           shown: shown, critique: suggestion.critique, yaml: suggestion.yaml)
            do {
                refinement.path = try SuggestionFile.writeNew(text, besideOutput: job.output.path, policy: policy.id)
                refinement.state = "written"
            } catch {
                refinement.state = "failed"
                refinement.message = "cannot write the suggestion: \(error)"
                logger.error("\(job.id): \(policy.id): \(refinement.message!)")
            }
            refinement.requests = Int(r.requests)
            refinement.promptTokens = Int(r.promptTokens)
            refinement.completionTokens = Int(r.completionTokens)
            let now = UnixTime.nowMs()
            do {
                try store.transaction {
                    try store.completeSynthesisTask(result.taskID, worker: worker, elapsedMs: min(result.elapsedMs, UInt64(Int64.max)), completedMs: now)
                    try store.updateSynthesisRefinement(job: job.id, refinement, completedMs: now)
                }
            } catch { storeFailed(error, "policy refinement") }
            leases.remove(task: result.taskID)
            failures.forgetTasks { $0 == result.taskID }
            job.refinements[policy.id] = refinement
            if let path = refinement.path {
                logger.info("\(job.id): suggested revision of policy \(policy.id) from \(refinement.disagreements) disagreements (via \(worker)) written to \(path); the policy is unchanged")
            }
            if job.refinementsDone { finishSynthesis(job) }
        case .error(let error):
            synthesisTaskFailed(job, result.taskID, reason: LogSafe.text(error.message), worker: worker)
        default:
            synthesisTaskFailed(job, result.taskID, reason: "a result of the wrong kind for a refine task", worker: worker)
        }
    }

    /// A refine task failed on enough distinct workers: that policy gets no suggestion (said in the job's message), the
    /// task is dropped, and the job ends done when nothing else is pending. The samples are complete either way.
    func refinementFailed(_ job: SynthesisRuntime, _ lease: TaskLease, message: String) {
        guard let policy = job.refinePolicy(armID: lease.armID) else { return }
        var refinement = job.refinements[policy.id] ?? StoredRefinement(policy: policy.id, state: "pending", disagreements: 0)
        refinement.state = "failed"
        refinement.message = message
        var dropped = leases.task(lease.taskID) ?? lease
        dropped.state = .cancelled
        leases.remove(task: lease.taskID)
        do {
            try store.transaction {
                try store.updateLease(dropped)
                try store.updateSynthesisRefinement(job: job.id, refinement, completedMs: UnixTime.nowMs())
            }
        } catch { storeFailed(error, "policy refinement") }
        job.refinements[policy.id] = refinement
        logger.error("\(job.id): no suggested revision of policy \(policy.id): the refine task \(message)")
        if job.refinementsDone { finishSynthesis(job) }
    }
}
