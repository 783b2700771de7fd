import Cluster
import Fusion
import Guards

/// Lifecycle of a job.
enum JobState: String, Codable, Sendable {
    case running
    /// All arms evaluated; the best arm is being written as a model directory.
    case exporting
    case done
    case cancelled
    case failed

    var isTerminal: Bool { self == .done || self == .cancelled || self == .failed }
}

/// A job row.
struct StoredJob {
    var id: String
    var kind: String
    var specYAML: String
    var prepared: PreparedMergeSearch
    var state: JobState
    var submitter: String
    var createdMs: UInt64
    var finishedMs: UInt64?
    var search: MergeSearch
    var exportPath: String?
    var message: String?
}

/// An arm row (issued or completed) with its summed confusion counts.
struct StoredArm {
    var jobID: String
    var arm: MergeArm
    var state: String
    var shardCount: Int
    var issuedMs: UInt64
    var completedMs: UInt64?
    var counts: ConfusionCounts?
    var f1: Double?
    var iteration: Int?
    var seconds: Double?
    /// Workers that evaluated its shards (comma-separated ids), for the history.
    var workers: String
    /// Highest lease attempt among its shards (1 = never re-leased).
    var attempts: Int
}

/// A task row: the lease plus, once done, its result.
struct StoredTask {
    var lease: TaskLease
    var counts: ConfusionCounts?
    var elapsedMs: UInt64
}

