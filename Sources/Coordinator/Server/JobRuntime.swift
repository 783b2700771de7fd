import Cluster
import Foundation
import Fusion
import Guards

/// A merge-search job in the coordinator's memory: its search run, the arms in flight and their shard results.
/// The store holds the same facts; this is the fast view the event loop works on.
final class JobRuntime {
    /// Shard results gathered for one arm in flight.
    struct ArmProgress {
        var arm: MergeArm
        var shardCounts: [Int: ConfusionCounts] = [:]
        /// Sum of worker-reported evaluation time over shards, in ms.
        var elapsedMs: UInt64 = 0
    }

    let id: String
    var state: JobState
    let prepared: PreparedMergeSearch
    /// The same search object `uniguard merge-search` drives; its engine is what the store persists.
    var run: MergeSearchRun
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
        run = MergeSearchRun(spec: stored.prepared.spec, ranking: stored.prepared.ranking, engine: stored.search)
        submitter = stored.submitter
        createdMs = stored.createdMs
        finishedMs = stored.finishedMs
        exportPath = stored.exportPath
        message = stored.message
        for pending in stored.search.pending { inFlight[pending.arm.id.rawValue] = ArmProgress(arm: pending.arm) }
    }

    var spec: MergeSearchSpec { prepared.spec }
    var shardCount: Int { prepared.shards.count }
    var armsDone: Int { run.history.count }
    var armsIssued: Int { run.issued }

    /// Whether another arm may be sampled now: running, budget left, and under the batch cap.
    var canIssueArm: Bool { state == .running && run.canAsk }

    /// All arms evaluated: time to export the best one.
    var searchFinished: Bool { run.finished }

    /// Records one shard's counts; returns the arm's total once every shard has reported.
    func record(arm: Int, shard: Int, counts: ConfusionCounts, elapsedMs: UInt64) -> (MergeArm, ConfusionCounts, UInt64)? {
        guard var progress = inFlight[arm] else { return nil }
        progress.shardCounts[shard] = counts
        progress.elapsedMs += elapsedMs
        inFlight[arm] = progress
        guard progress.shardCounts.count >= shardCount else { return nil }
        inFlight[arm] = nil
        // No overflow: each shard's total was checked against its line count on arrival.
        let total = progress.shardCounts.values.reduce(ConfusionCounts(), +)
        return (progress.arm, total, progress.elapsedMs)
    }
}
