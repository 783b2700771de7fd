import Cluster
import Foundation
import Runtime

/// `coordinator status` for a training job: state, step/steps, losses, throughput, ETA, the generation and its
/// ranks, the last committed checkpoint.
extension CoordinatorServer {
    func trainingJobJSON(_ job: TrainingRuntime, includeHistory: Bool) throws -> [String: Any] {
        let now = UnixTime.nowMs()
        func value(_ x: Double?) -> Any { x.flatMap { $0.isFinite ? $0 : nil }.map { $0 as Any } ?? NSNull() }
        let p = job.progress
        let step = job.step
        // ETA from the newest throughput: steps left × global batch / samples per second.
        var eta: Double?
        if let p, p.samplesPerSecond > 0, job.state == .running {
            eta = Double(job.totalSteps - step) * Double(job.prepared.spec.batch) / p.samplesPerSecond
        }
        var losses: [String: Any] = [:]
        if let p {
            losses["total"] = value(p.loss)
            losses["classification"] = value(p.classificationLoss)
            if job.prepared.spec.kind == .pretrain {
                losses["mlm"] = value(p.mlmLoss)
                losses["adversarial"] = value(p.adversarialLoss)
                losses["consistency"] = value(p.consistencyLoss)
            }
        }
        let ranks: [[String: Any]] = (job.current?.ranks ?? []).enumerated().map { rank, r in
            [
                "id": r.workerID, "rank": rank, "task_id": r.taskID, "last_step": r.lastStep,
                "last_step_unix_ms": r.lastStepUnixMs.map { $0 as Any } ?? NSNull(),
                "last_step_ms_ago": r.lastStepUnixMs.map { (now >= $0 ? now - $0 : 0) as Any } ?? NSNull(),
                "step_ms": r.stepMs, "allreduce_ms": r.allreduceMs, "finished": r.result != nil,
                "lease_ms_left": r.deadlineUnixMs > now ? r.deadlineUnixMs - now : 0,
            ]
        }
        var entry: [String: Any] = [
            "id": job.id, "kind": job.prepared.spec.kind.rawValue, "name": job.prepared.spec.name, "state": job.state.rawValue,
            "step": step, "steps": job.totalSteps, "progress": Double(step) / Double(max(job.totalSteps, 1)),
            "loss": value(p?.loss), "losses": losses, "epoch": p.map { Int(clamping: $0.epoch) as Any } ?? NSNull(),
            "samples_per_second": value(p?.samplesPerSecond), "tokens_per_second": value(p?.tokensPerSecond),
            "eta_seconds": value(eta), "skipped_steps": p.map { Int(clamping: $0.skippedSteps) } ?? 0,
            "validation_f1": value(p?.validationF1),
            "generation": job.current?.number ?? job.lastGeneration, "generation_running": job.current != nil,
            "workers": ranks, "workers_required": job.minimumMembers, "batch": job.prepared.spec.batch,
            "records": job.prepared.records, "output": trainingOutput(job),
            "submitter": job.submitter, "created_unix_ms": job.createdMs,
            "finished_unix_ms": job.finishedMs.map { $0 as Any } ?? NSNull(),
            "export_path": job.exportPath.map { $0 as Any } ?? NSNull(),
            "message": job.message.map { $0 as Any } ?? NSNull(),
            "last_checkpoint": job.committed.map { c -> Any in
                ["step": c.step, "generation": c.generation, "committed_unix_ms": c.committedMs,
                 "files": c.files.map { ["name": $0.name, "hash": $0.hash, "size": $0.size] as [String: Any] }] as [String: Any]
            } ?? NSNull(),
        ]
        if let fetch = job.fetch {
            entry["checkpoint_receiving"] = ["step": fetch.step, "files_left": fetch.missing.count, "bytes_received": fetch.bytesReceived,
                                             "from": fetch.workerID] as [String: Any]
        }
        if includeHistory {
            entry["generations"] = try store.loadGenerations(job: job.id).map { g -> [String: Any] in
                ["generation": g.generation, "start_step": g.startStep, "workers": g.members, "started_unix_ms": g.startedMs,
                 "ended_unix_ms": g.endedMs.map { $0 as Any } ?? NSNull(), "end_reason": g.endReason.map { $0 as Any } ?? NSNull()]
            }
        }
        return entry
    }
}
