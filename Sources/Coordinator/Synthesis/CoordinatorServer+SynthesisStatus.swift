import Cluster
import Foundation
import GuardData
import Runtime

/// `coordinator status` for a synthesize job: accepted/target, batches done/in flight/estimated total, per policy the
/// accepted samples of each label, exact and near duplicates, surplus, relabelled and dropped, the requests and tokens
/// reported, and `refine_policy`'s suggestions.
extension CoordinatorServer {
    func synthesisJobJSON(_ job: SynthesisRuntime) -> [String: Any] {
        let now = UnixTime.nowMs()
        let queuedTasks = leases.tasks.values.filter { $0.jobID == job.id && $0.state == .queued }
        let blocked = queuedTasks.filter { task in
            !membership.members.keys.contains { failures.mayRun(task.taskID, on: $0, nowUnixMs: now) }
        }.count
        let running = job.state == .running
        let policies: [[String: Any]] = job.prepared.policies.map { p in
            let t = job.tallies[p.id] ?? SynthesisRuntime.PolicyTally()
            return ["policy": p.id, "accepted_unsafe": t.accepted[.unsafe] ?? 0, "accepted_safe": t.accepted[.safe] ?? 0,
                    "accepted": (t.accepted[.unsafe] ?? 0) + (t.accepted[.safe] ?? 0), "target": 2 * job.spec.count,
                    "generated": t.generated, "duplicates": t.duplicates, "near_duplicates": t.nearDuplicates, "surplus": t.surplus,
                    "relabelled": t.relabelled,
                    "rejected": t.dropped, "batches": t.batches]
        }
        let refinements: [[String: Any]] = job.prepared.policies.compactMap { p in
            guard let r = job.refinements[p.id] else { return nil }
            return ["policy": r.policy, "state": r.state, "disagreements": r.disagreements, "path": r.path.map { $0 as Any } ?? NSNull(),
                    "message": r.message.map { $0 as Any } ?? NSNull(), "requests": r.requests, "prompt_tokens": r.promptTokens,
                    "completion_tokens": r.completionTokens]
        }
        let left = running ? job.batchesEstimatedLeft : 0
        let accepted = job.acceptedTotal
        return [
            "id": job.id, "kind": "synthesize", "name": job.spec.name, "state": job.state.rawValue,
            "model": job.spec.model, "endpoint": job.spec.endpoint, "count": job.spec.count, "batch": job.spec.batch,
            "concurrency": job.spec.concurrency, "reflection": job.spec.reflection ?? "off", "seed": job.spec.seed,
            "accepted": accepted, "target": job.target, "progress": Double(accepted) / Double(max(job.target, 1)),
            "batches_done": job.batchesDone, "batches_in_flight": running ? job.inFlight.count : 0,
            "batches_being_embedded": job.embeddingWork.values.filter { if case .batch = $0 { true } else { false } }.count,
            "batches_total": job.batchesDone + (running ? job.inFlight.count : 0) + left,
            "queued_tasks": queuedTasks.count, "tasks_waiting_for_another_worker": blocked,
            "duplicates": policies.reduce(0) { $0 + ($1["duplicates"] as? Int ?? 0) },
            "near_duplicates": policies.reduce(0) { $0 + ($1["near_duplicates"] as? Int ?? 0) },
            "embedding_dedup": job.spec.nearDuplicates.map { n -> Any in
                ["threshold": Double(n.threshold), "window": n.window, "embed_model": n.embedModel ?? ""] } ?? NSNull(),
            "refine_policy": job.spec.refines,
            "phase": running ? (job.refinements.isEmpty ? "samples" : "refining") : job.state.rawValue,
            "refinements": refinements,
            "rejected": policies.reduce(0) { $0 + ($1["rejected"] as? Int ?? 0) },
            "policies": policies,
            "requests": job.requests, "prompt_tokens": job.promptTokens, "completion_tokens": job.completionTokens, "retries": job.retries,
            "output": job.output.path, "submitter": job.submitter, "created_unix_ms": job.createdMs,
            "finished_unix_ms": job.finishedMs.map { $0 as Any } ?? NSNull(),
            "message": job.message.map { $0 as Any } ?? NSNull(),
        ]
    }
}
