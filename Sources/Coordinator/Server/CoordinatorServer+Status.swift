import Cluster
import Foundation
import Fusion
import Runtime

/// `coordinator status`: one JSON object with top-level `workers` and `jobs` arrays, built from memory
/// (and, for one job's history, from the store) so it answers quickly while jobs run.
extension CoordinatorServer {
    func answerStatus(_ request: Uniguard_V1_StatusRequest, to peer: Data, requestID: UInt64) {
        if !request.jobID.isEmpty, jobs[request.jobID] == nil, trainingJobs[request.jobID] == nil, synthesisJobs[request.jobID] == nil {
            sendError(.unknownJob, "no job \(request.jobID)", to: peer, replyTo: requestID, jobID: request.jobID)
            return
        }
        var reply = Uniguard_V1_StatusReply()
        do {
            reply.json = try statusJSON(jobID: request.jobID.isEmpty ? nil : request.jobID,
                                        includeHistory: request.includeHistory || !request.jobID.isEmpty)
        } catch {
            sendError(.internal, "cannot build status: \(error)", to: peer, replyTo: requestID)
            return
        }
        send(.statusReply(reply), to: peer, jobID: request.jobID, replyTo: requestID)
    }

    func statusJSON(jobID: String?, includeHistory: Bool) throws -> String {
        let now = UnixTime.nowMs()
        let workers: [[String: Any]] = membership.members.values.sorted { $0.id < $1.id }.map { m in
            let running = leases.leasedCount(by: m.id) + trainingSlots(of: m.id)
            let quarantined = failures.isQuarantined(m.id, nowUnixMs: now)
            return [
                "state": quarantined ? "quarantined" : "active",
                "failures_in_a_row": failures.consecutiveFailures[m.id] ?? 0,
                "quarantined_until_unix_ms": quarantined ? failures.quarantinedUntil[m.id] ?? 0 : 0,
                "id": m.id, "hostname": m.hostname, "slots": m.slots, "running": running,
                "free_slots": max(0, m.slots - running), "load": Double(m.load),
                "last_heartbeat_unix_ms": m.lastHeardUnixMs, "last_heartbeat_ms_ago": now >= m.lastHeardUnixMs ? now - m.lastHeardUnixMs : 0,
                "joined_unix_ms": m.joinedUnixMs, "software_version": m.softwareVersion, "blas_core": m.blasCore,
            ]
        }
        let selected = jobOrder.filter { jobID == nil || $0 == jobID }
        let jobList = try selected.compactMap { id -> [String: Any]? in
            if let training = trainingJobs[id] { return try trainingJobJSON(training, includeHistory: includeHistory) }
            if let synthesis = synthesisJobs[id] { return synthesisJobJSON(synthesis) }
            return try jobs[id].map { try jobJSON($0, includeHistory: includeHistory) }
        }
        let document: [String: Any] = [
            "coordinator": [
                "endpoint": boundEndpoint, "session": session, "version": UniGuardVersion.description,
                "started_unix_ms": startedMs, "database": config.databasePath, "curve": config.curveEnabled,
                "heartbeat_interval_ms": config.heartbeatIntervalMs, "liveness": config.liveness,
            ] as [String: Any],
            "workers": workers,
            "jobs": jobList,
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    private func jobJSON(_ job: JobRuntime, includeHistory: Bool) throws -> [String: Any] {
        var means: [String: Double] = [:]
        var posteriors: [String: [String: Double]] = [:]
        for (label, p) in job.run.engine.posteriors {
            means[label] = p.mean
            posteriors[label] = ["alpha": p.alpha, "beta": p.beta]
        }
        let queuedTasks = leases.tasks.values.filter { $0.jobID == job.id && $0.state == .queued }
        let queued = queuedTasks.count
        // Retries no live worker may take (each failed them or is quarantined): the job waits for another worker.
        let now = UnixTime.nowMs()
        let blocked = queuedTasks.filter { task in
            !membership.members.keys.contains { failures.mayRun(task.taskID, on: $0, nowUnixMs: now) }
        }.count
        var entry: [String: Any] = [
            "id": job.id, "kind": "merge-search", "name": job.spec.name, "state": job.state.rawValue,
            "strategy": job.run.strategy.rawValue, "iterations": job.spec.iterations, "batch": job.spec.batch,
            "shards_per_arm": job.shardCount, "arms_done": job.armsDone, "arms_in_flight": job.run.inFlight.count,
            "arms_issued": job.armsIssued, "progress": Double(job.armsDone) / Double(max(job.spec.iterations, 1)),
            "queued_tasks": queued, "tasks_waiting_for_another_worker": blocked, "posterior_means": means, "posteriors": posteriors,
            "candidates": job.prepared.ranking.kept, "policy": job.prepared.ranking.policy.map { $0 as Any } ?? NSNull(),
            "candidate_ranking": job.prepared.ranking.scores.map { ["path": $0.path, "f1": $0.f1] as [String: Any] },
            "submitter": job.submitter, "created_unix_ms": job.createdMs, "evaluator": job.spec.evaluator,
            "best_f1": job.run.best.map { $0.f1 as Any } ?? NSNull(),
            "finished_unix_ms": job.finishedMs.map { $0 as Any } ?? NSNull(),
            "export_path": job.exportPath.map { $0 as Any } ?? NSNull(),
            "message": job.message.map { $0 as Any } ?? NSNull(),
        ]
        if let best = job.run.best {
            entry["best_arm"] = Self.armJSON(arm: best.arm.rawValue, method: best.method, weights: best.weights,
                                             subset: best.subset, parameters: best.parameters)
                .merging(["f1": best.f1, "iteration": best.iteration]) { $1 }
        }
        if includeHistory {
            entry["history"] = try store.loadArms(job: job.id).map { stored -> [String: Any] in
                var h = Self.armJSON(arm: stored.arm.id.rawValue, method: stored.arm.method, weights: stored.arm.weights,
                                     subset: stored.arm.subset, parameters: stored.arm.parameters)
                h["state"] = stored.state
                h["issued_unix_ms"] = stored.issuedMs
                h["attempts"] = stored.attempts
                h["workers"] = stored.workers.split(separator: ",").map(String.init).sorted()
                if let f1 = stored.f1, let counts = stored.counts {
                    h["f1"] = f1
                    h["iteration"] = stored.iteration ?? 0
                    h["seconds"] = stored.seconds ?? 0
                    h["completed_unix_ms"] = stored.completedMs ?? 0
                    h["counts"] = ["tp": counts.tp, "fp": counts.fp, "tn": counts.tn, "fn": counts.fn]
                }
                return h
            }
        }
        return entry
    }

    static func armJSON(arm: Int, method: MergeMethodKind, weights: [Double], subset: ParameterSubset,
                        parameters: [String: Double]) -> [String: Any] {
        ["arm": arm, "method": method.rawValue, "weights": weights, "subset": subset.description, "parameters": parameters]
    }
}
