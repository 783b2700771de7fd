/// One unit of work (a shard of a merge arm) and who holds it until when.
public struct TaskLease: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// Waiting for a free slot.
        case queued
        /// Held by `workerID` until `deadlineUnixMs`.
        case leased
        /// Result recorded; never handed out again.
        case done
        /// Its job was cancelled.
        case cancelled
    }

    public let taskID: String
    public let jobID: String
    public let armID: Int
    public let shard: Int
    public var state: State
    public var workerID: String?
    /// Times it was leased (1 for the first lease).
    public var attempt: Int
    /// Wall-clock lease expiry (ms since the epoch): persisted, so it survives a coordinator restart.
    public var deadlineUnixMs: UInt64
    public var leasedAtUnixMs: UInt64

    public init(taskID: String, jobID: String, armID: Int, shard: Int, state: State = .queued, workerID: String? = nil,
                attempt: Int = 0, deadlineUnixMs: UInt64 = 0, leasedAtUnixMs: UInt64 = 0) {
        self.taskID = taskID
        self.jobID = jobID
        self.armID = armID
        self.shard = shard
        self.state = state
        self.workerID = workerID
        self.attempt = attempt
        self.deadlineUnixMs = deadlineUnixMs
        self.leasedAtUnixMs = leasedAtUnixMs
    }

    /// Task ids name job, arm and shard, so logs and worker messages are self-explanatory.
    public static func id(job: String, arm: Int, shard: Int) -> String { "\(job)/arm-\(arm)/shard-\(shard)" }
}

/// Task leases as pure bookkeeping (no I/O, time passed in): queue, lease, complete, expire, requeue on worker loss.
///
/// Rules: a task is handed to one worker at a time; a lease ends by a result, by its deadline (fixed when the
/// lease is granted: a worker saying it still runs the task does not move it), or by its worker leaving; expired
/// and orphaned tasks go back to the front of the queue (they are the oldest work). A result counts only from the
/// lease holder for the current attempt: anyone else's, or a late one from an expired attempt, is rejected, so a
/// registered worker cannot score tasks it was never given; the holder's repeat of a counted result is a duplicate.
public struct LeaseTable: Sendable {
    public private(set) var tasks: [String: TaskLease] = [:]
    /// Queued task ids in hand-out order.
    private var queue: [String] = []

    public init() {}

    /// Adds a new or restored task; queued tasks join the back of the queue.
    public mutating func insert(_ lease: TaskLease) {
        tasks[lease.taskID] = lease
        if lease.state == .queued, !queue.contains(lease.taskID) { queue.append(lease.taskID) }
    }

    public func task(_ id: String) -> TaskLease? { tasks[id] }

    public var queuedCount: Int { queue.count }

    /// The first queued task accepted by `filter` (e.g. one of a job that is still running).
    public func nextQueued(where filter: (TaskLease) -> Bool = { _ in true }) -> TaskLease? {
        queue.lazy.compactMap { tasks[$0] }.first(where: filter)
    }

    /// Leases a queued task to `worker` until `now + timeoutMs`; nil if it is not queued.
    @discardableResult
    public mutating func lease(_ id: String, to worker: String, nowUnixMs: UInt64, timeoutMs: Int) -> TaskLease? {
        guard var t = tasks[id], t.state == .queued else { return nil }
        t.state = .leased
        t.workerID = worker
        t.attempt += 1
        t.leasedAtUnixMs = nowUnixMs
        t.deadlineUnixMs = nowUnixMs + UInt64(max(timeoutMs, 0))
        tasks[id] = t
        queue.removeAll { $0 == id }
        return t
    }

    /// What a reported result means for the table.
    public enum Completion: Equatable, Sendable {
        /// From the holder, for the current attempt: recorded.
        case accepted(TaskLease)
        /// The holder repeated the result already counted (e.g. after a reconnect): acknowledge, count once.
        case duplicate
        /// Not the holder's current attempt: never counted.
        case rejected(ResultRejection)
        case cancelled
        case unknown
    }

    /// Whether a result for `id` from `worker` for `attempt` may count, without recording it.
    public func verdict(_ id: String, worker: String, attempt: Int) -> Completion {
        guard let t = tasks[id] else { return .unknown }
        switch t.state {
        case .cancelled: return .cancelled
        case .done:
            return t.workerID == worker && t.attempt == attempt ? .duplicate : .rejected(.alreadyDone)
        case .queued: return .rejected(.notLeased)
        case .leased:
            guard t.workerID == worker else { return .rejected(.notHolder(holder: t.workerID ?? "")) }
            guard t.attempt == attempt else { return .rejected(.staleAttempt(current: t.attempt)) }
            return .accepted(t)
        }
    }

    /// Records the result of the holder's current attempt; anything else is returned unrecorded (see `verdict`).
    public mutating func complete(_ id: String, worker: String, attempt: Int) -> Completion {
        guard case .accepted(var t) = verdict(id, worker: worker, attempt: attempt) else {
            return verdict(id, worker: worker, attempt: attempt)
        }
        t.state = .done
        tasks[id] = t
        return .accepted(t)
    }

    /// Leases whose deadline passed, with their holders (what `expire` is about to requeue).
    public func expiring(nowUnixMs: UInt64) -> [TaskLease] {
        tasks.values.filter { $0.state == .leased && $0.deadlineUnixMs <= nowUnixMs }.sorted { $0.taskID < $1.taskID }
    }

    /// Returns every lease whose deadline passed to the queue; returns them (now queued).
    public mutating func expire(nowUnixMs: UInt64) -> [TaskLease] {
        expiring(nowUnixMs: nowUnixMs).compactMap { requeue($0.taskID) }
    }

    /// Returns all leases of a worker that left or died; returns them (now queued).
    public mutating func requeue(worker: String) -> [TaskLease] {
        leased(by: worker).compactMap { requeue($0.taskID) }
    }

    /// Puts one leased task back at the front of the queue.
    @discardableResult
    public mutating func requeue(_ id: String) -> TaskLease? {
        guard var t = tasks[id], t.state == .leased else { return nil }
        t.state = .queued
        t.workerID = nil
        t.deadlineUnixMs = 0
        tasks[id] = t
        queue.insert(id, at: 0)
        return t
    }

    /// Restores the grant's deadline of a task its holder still runs (after a coordinator restart shortened it to
    /// a grace window). Never later than `leasedAt + timeout`: a hung task on a live worker must still expire.
    public mutating func confirm(_ id: String, worker: String, timeoutMs: Int) {
        guard var t = tasks[id], t.state == .leased, t.workerID == worker else { return }
        t.deadlineUnixMs = t.leasedAtUnixMs + UInt64(max(timeoutMs, 0))
        tasks[id] = t
    }

    /// Cancels every unfinished task of a job; returns those that were leased, so their workers can be told.
    public mutating func cancel(job: String) -> [TaskLease] {
        var wasLeased: [TaskLease] = []
        for (id, var t) in tasks where t.jobID == job && (t.state == .queued || t.state == .leased) {
            if t.state == .leased { wasLeased.append(t) }
            t.state = .cancelled
            tasks[id] = t
        }
        queue.removeAll { tasks[$0]?.jobID == job }
        return wasLeased.sorted { $0.taskID < $1.taskID }
    }

    /// Forgets one task (it lives on in the store): a finished one, so a long job's done tasks do not pile up in memory,
    /// or one its job gives up on. A late result for it is then unknown (acknowledged, never counted).
    public mutating func remove(task id: String) {
        guard tasks.removeValue(forKey: id) != nil else { return }
        queue.removeAll { $0 == id }
    }

    /// Forgets a finished job's tasks (they live on in the store).
    public mutating func remove(job: String) {
        tasks = tasks.filter { $0.value.jobID != job }
        queue.removeAll { tasks[$0] == nil }
    }

    public func leased(by worker: String) -> [TaskLease] {
        tasks.values.filter { $0.state == .leased && $0.workerID == worker }.sorted { $0.taskID < $1.taskID }
    }

    public func leasedCount(by worker: String) -> Int {
        tasks.values.reduce(0) { $0 + ($1.state == .leased && $1.workerID == worker ? 1 : 0) }
    }

    /// Tasks of one arm, by shard.
    public func tasks(job: String, arm: Int) -> [TaskLease] {
        tasks.values.filter { $0.jobID == job && $0.armID == arm }.sorted { $0.shard < $1.shard }
    }
}
