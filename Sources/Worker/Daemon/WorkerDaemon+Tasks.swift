import Cluster
import Foundation
import Logging
import Runtime

/// Task states: accepted → fetching blobs → running in a slot → finished, kept until the coordinator
/// acknowledges the result (resent when it does not).
extension WorkerDaemon {

    func accept(_ assignment: Uniguard_V1_TaskAssignment, jobID: String) {
        // A repeat of a task we hold is a duplicate, unless ours is a finished earlier attempt (e.g. a failure
        // the coordinator retries here before our result's acknowledgement arrived).
        if let held = tasks[assignment.taskID] {
            guard held.phase == .finished, held.assignment.attempt != assignment.attempt else { return }
        }
        var held = HeldTask(assignment: assignment, jobID: jobID, phase: .fetching)
        let missing = missingBlobs(assignment)
        if missing.isEmpty {
            held.phase = .running
            tasks[assignment.taskID] = held
            pool.submit(assignment, jobID: jobID)
        } else {
            tasks[assignment.taskID] = held
            for (hash, size) in missing where downloads[hash] == nil { startDownload(hash, size: size) }
            requestBlobs()
        }
        logger.debug("accepted \(assignment.taskID) (attempt \(assignment.attempt), \(missing.count) blobs to fetch)")
    }

    /// Blobs (hash, size) a task still needs before it can run.
    func missingBlobs(_ assignment: Uniguard_V1_TaskAssignment) -> [(String, UInt64)] {
        var refs: [Uniguard_V1_ModelRef] = []
        var files: [(range: Uniguard_V1_ShardRange, size: UInt64)] = []
        var extra: [(String, UInt64)] = []
        switch assignment.kind {
        case .mergeArm(let task)?:
            refs = task.models
            if task.hasBaseModel { refs.append(task.baseModel) }
            files = [(task.validation, task.validationSizeBytes)]
        case .trainStep(let task)?:
            refs = [task.checkpoint]
            if task.trainingKind == "pretrain" {
                // The index whole; the corpus itself never: its records come as byte ranges (RemoteCorpus).
                if ModelBlobSet.isHexHash(task.indexHash), !cache.has(task.indexHash) { extra.append((task.indexHash, task.indexSizeBytes)) }
            } else {
                files = [(task.shard, task.shardSizeBytes)]
                if !task.validation.corpusHash.isEmpty { files.append((task.validation, task.validationSizeBytes)) }
            }
        default:
            return []
        }
        var out: [(String, UInt64)] = extra
        for ref in refs {
            guard let set = try? ModelBlobSet(wire: ref) else { continue }
            out += cache.missing(set).map { ($0.hash, $0.size) }
        }
        for (range, size) in files {
            let sharedOK = !range.sharedPath.isEmpty
                && ((try? FileManager.default.attributesOfItem(atPath: range.sharedPath))?[.size] as? NSNumber)?.uint64Value == size
            if !sharedOK, ModelBlobSet.isHexHash(range.corpusHash), !cache.has(range.corpusHash) {
                out.append((range.corpusHash, size))
            }
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0.0).inserted }
    }

    func collectResults() {
        for result in pool.takeResults() {
            training.forget(result.taskID)
            let rawFrames = synthesis.take(result.taskID)
            guard var held = tasks[result.taskID] else { continue }
            if held.cancelled {
                logger.info("task \(result.taskID) stopped (cancelled)")
                tasks[result.taskID] = nil
                continue
            }
            held.phase = .finished
            held.result = result
            held.rawFrames = rawFrames
            held.sentAt = nil
            tasks[result.taskID] = held
            if case .error(let e)? = result.outcome { logger.warning("task \(result.taskID) failed: \(e.message)") }
        }
        resendStale()
    }

    /// Sends finished results that were never sent or not acknowledged for a while.
    func resendStale() {
        guard registered else { return }
        let now = ContinuousClock.now
        let patience = heartbeat.settings.interval * 5
        for id in tasks.keys.sorted() {
            guard let held = tasks[id], held.phase == .finished, let result = held.result else { continue }
            if let sentAt = held.sentAt, now - sentAt < patience { continue }
            if send(.taskResult(result), jobID: held.jobID, rawFrames: held.rawFrames) != nil { tasks[id]?.sentAt = now }
        }
    }

    /// Drops the job's tasks (only `taskIDs` when given, e.g. the ranks of an ended generation). A running
    /// training rank stops at its next step boundary and closes its group; its result is not reported.
    func cancelTasks(job: String, reason: String, taskIDs: [String] = []) {
        var dropped = 0
        let only = Set(taskIDs)
        for (id, held) in tasks where held.jobID == job && (only.isEmpty || only.contains(id)) {
            switch held.phase {
            case .running:
                tasks[id]?.cancelled = true
                training.cancel(id)
            case .fetching, .finished: tasks[id] = nil
            }
            dropped += 1
        }
        if dropped > 0 { logger.info("job \(job) cancelled (\(reason)); dropped \(dropped) tasks") }
    }
}
