import Cluster
import Foundation

/// A training job in the coordinator's memory: the current generation (ranks, their task ids and leases, the
/// rendezvous key/values), the latest progress, the last committed checkpoint and a checkpoint being fetched.
/// Generations and checkpoints are also in the store; key/values and progress live only here (a restart starts a
/// new generation, which rendezvous anew).
final class TrainingRuntime {
    /// One rank of the current generation.
    struct Rank {
        var workerID: String
        var taskID: String
        /// Lease expiry: renewed whenever the rank's progress advances a step.
        var deadlineUnixMs: UInt64
        var lastStep: Int
        var lastStepUnixMs: UInt64?
        /// When its assignment left (a heartbeat not listing the task before this + grace is not a loss yet).
        var assignedUnixMs: UInt64
        var result: Uniguard_V1_TrainStepResult?
        /// Wall time of its last step and the all-reduce part of it (from progress), for status.
        var stepMs: Double = 0
        var allreduceMs: Double = 0
    }

    /// The generation being run.
    struct Generation {
        var number: Int
        var startStep: Int
        var ranks: [Rank]
        var startedMs: UInt64
        /// Every key of this generation's Gloo store starts with it (`job-N/gen-G`).
        var prefix: String
        /// The Gloo store: key → value, only keys under `prefix`.
        var keyValues: [String: Data] = [:]
        var keyValueBytes = 0

        func rank(ofTask taskID: String) -> Int? { ranks.firstIndex { $0.taskID == taskID } }
        var members: [String] { ranks.map(\.workerID) }
    }

    let id: String
    var state: JobState
    let prepared: PreparedTraining
    let submitter: String
    let createdMs: UInt64
    var finishedMs: UInt64?
    var exportPath: String?
    var message: String?

    /// Highest generation number ever formed (stored), 0 before the first.
    var lastGeneration: Int
    var current: Generation?
    var committed: CommittedCheckpoint?
    /// The newest progress report of the current generation (losses are global means: any rank's will do).
    var progress: Uniguard_V1_TrainProgress?
    var progressUnixMs: UInt64?
    /// Members a new generation needs before it may start: `workers` at first and after a restart; after a
    /// disturbance the survivors carry on (fewer ranks, same global batch).
    var minimumMembers: Int
    /// After a generation ends: the workers expected in the next one (its live members and joiners) and how long to
    /// wait for them to stop their old ranks; then whoever is free forms it. Nil: `minimumMembers` strictly.
    var expectedMembers: Set<String>?
    var expectedUntilUnixMs: UInt64 = 0
    /// Generations ended by a failure in a row with no checkpoint committed in between (guards against a loop).
    var failedGenerations = 0
    /// A checkpoint being pulled from rank 0.
    var fetch: CheckpointFetch?
    /// Old-generation task ids recently told to stop, with when (so a worker listing them is not told every beat).
    var cancelledTasks: [String: UInt64] = [:]

    init(_ stored: StoredTrainingJob, lastGeneration: Int, committed: CommittedCheckpoint?) {
        id = stored.id
        state = stored.state
        prepared = stored.prepared
        submitter = stored.submitter
        createdMs = stored.createdMs
        finishedMs = stored.finishedMs
        exportPath = stored.exportPath
        message = stored.message
        self.lastGeneration = lastGeneration
        self.committed = committed
        minimumMembers = stored.prepared.spec.workers
    }

    var totalSteps: Int { prepared.totalSteps }
    var committedStep: Int { committed?.step ?? 0 }

    /// The step the job has reached: the newest progress of the current generation, else the committed step.
    var step: Int {
        if state == .done { return totalSteps }
        return max(committedStep, current.flatMap { _ in progress.map { Int(clamping: $0.step) } } ?? 0)
    }

    /// Task ids of a generation's ranks: `job-N/gen-G/rank-R`.
    static func taskID(job: String, generation: Int, rank: Int) -> String { "\(job)/gen-\(generation)/rank-\(rank)" }
    static func rendezvousPrefix(job: String, generation: Int) -> String { "\(job)/gen-\(generation)" }

    /// The generation a training task id names (nil: not one of this job's train tasks).
    func generation(ofTask taskID: String) -> Int? {
        guard taskID.hasPrefix(id + "/gen-") else { return nil }
        let rest = taskID.dropFirst(id.count + 5)
        guard let slash = rest.firstIndex(of: "/"), rest[slash...].hasPrefix("/rank-") else { return nil }
        return Int(rest[..<slash])
    }

    /// The rank of the current generation holding `taskID` on `workerID`, or why not.
    func holder(_ taskID: String, worker: String) -> Result<Int, ResultRejection> {
        guard let current, let rank = current.rank(ofTask: taskID) else {
            return .failure(.notLeased)
        }
        guard current.ranks[rank].workerID == worker else { return .failure(.notHolder(holder: current.ranks[rank].workerID)) }
        return .success(rank)
    }

    /// Whether the committed checkpoint is the final one.
    var trainingFinished: Bool { committedStep >= totalSteps }
}

/// Rejections travel in `Result`s of rank lookups.
extension ResultRejection: Error {}
