import Cluster
import Foundation
import Fusion

/// A merge-search job in the coordinator's memory: the engine, the arms in flight and their shard results.
/// The store holds the same facts; this is the fast view the event loop works on.
final class JobRuntime {
    /// Shard results gathered for one arm in flight.
    struct ArmProgress {
        var arm: MergeArm
        var shardCounts: [Int: ConfusionTally] = [:]
        /// Sum of worker-reported evaluation time over shards, in ms.
        var elapsedMs: UInt64 = 0
    }

    let id: String
    var state: JobState
    let prepared: PreparedMergeSearch
    var search: MergeSearch
    var inFlight: [Int: ArmProgress] = [:]
    let submitter: String
    let createdMs: UInt64
    var finishedMs: UInt64?
    var exportPath: String?
    var message: String?

    init(_ stored: StoredJob) {
        id = stored.id
        state = stored.state
        prepared = stored.prepared
        search = stored.search
        submitter = stored.submitter
        createdMs = stored.createdMs
        finishedMs = stored.finishedMs
        exportPath = stored.exportPath
        message = stored.message
        for pending in stored.search.pending { inFlight[pending.arm.id.rawValue] = ArmProgress(arm: pending.arm) }
    }

    var spec: MergeSearchJobSpec { prepared.spec }
    var shardCount: Int { prepared.shards.count }
    var armsDone: Int { search.history.count }
    var armsIssued: Int { search.history.count + search.pending.count }

    /// Whether another arm may be sampled now: running, budget left, and under the batch cap.
    var canIssueArm: Bool {
        state == .running && armsIssued < spec.iterations && (spec.batch == 0 || search.pending.count < spec.batch)
    }

    /// All arms evaluated: time to export the best one.
    var searchFinished: Bool { armsDone >= spec.iterations && search.pending.isEmpty }

    /// Records one shard's counts; returns the arm's total once every shard has reported.
    func record(arm: Int, shard: Int, counts: ConfusionTally, elapsedMs: UInt64) -> (MergeArm, ConfusionTally, UInt64)? {
        guard var progress = inFlight[arm] else { return nil }
        progress.shardCounts[shard] = counts
        progress.elapsedMs += elapsedMs
        inFlight[arm] = progress
        guard progress.shardCounts.count >= shardCount else { return nil }
        inFlight[arm] = nil
        let total = progress.shardCounts.values.reduce(ConfusionTally(), +)
        return (progress.arm, total, progress.elapsedMs)
    }

    /// The best arm so far as a mergeable arm (for export).
    var bestArm: MergeArm? {
        guard let best = search.best else { return nil }
        return MergeArm(id: best.arm, method: best.method, weights: best.weights, subset: best.subset,
                        instruction: best.instruction, parameters: best.parameters)
    }
}
