/// Task failures by worker, as pure bookkeeping (time passed in): who failed which task, and which workers are
/// quarantined.
///
/// Why: one broken worker (corrupt cache, bad BLAS) fails every task it gets. Counting its failures against the
/// job would let it fail every job, so a failed task is retried on a worker that has not failed it, the job fails
/// only when `distinctWorkersToFailTask` different workers failed the same task (then the task itself is broken),
/// and a worker that fails `failuresToQuarantine` tasks in a row gets no work for `quarantineMs`.
public struct FailureLedger: Sendable {
    public var failuresToQuarantine = 3
    public var quarantineMs: UInt64 = 300_000
    public var distinctWorkersToFailTask = 3

    /// Workers that failed each task, in failure order.
    public private(set) var failedBy: [String: [String]] = [:]
    /// Failures since the worker's last success.
    public private(set) var consecutiveFailures: [String: Int] = [:]
    /// Quarantine end (ms since the epoch) by worker.
    public private(set) var quarantinedUntil: [String: UInt64] = [:]

    public init() {}

    /// What one failure means.
    public struct Outcome: Equatable, Sendable {
        /// Distinct workers that failed the task so far.
        public var workers: [String]
        /// Enough distinct workers failed it: the task (so its job) is broken.
        public var failsJob: Bool
        /// This failure put the worker in quarantine.
        public var quarantinedWorker: Bool
    }

    public mutating func recordFailure(task: String, worker: String, nowUnixMs: UInt64) -> Outcome {
        if !failedBy[task, default: []].contains(worker) { failedBy[task, default: []].append(worker) }
        consecutiveFailures[worker, default: 0] += 1
        var quarantined = false
        if consecutiveFailures[worker, default: 0] >= failuresToQuarantine {
            quarantinedUntil[worker] = nowUnixMs + quarantineMs
            consecutiveFailures[worker] = 0
            quarantined = true
        }
        let workers = failedBy[task] ?? []
        return Outcome(workers: workers, failsJob: workers.count >= distinctWorkersToFailTask,
                       quarantinedWorker: quarantined)
    }

    /// A counted result: the worker works again, so its run of failures ends.
    public mutating func recordSuccess(worker: String) {
        consecutiveFailures[worker] = nil
    }

    public func isQuarantined(_ worker: String, nowUnixMs: UInt64) -> Bool {
        (quarantinedUntil[worker] ?? 0) > nowUnixMs
    }

    /// Whether `worker` may be given `task`: not quarantined, and it has not failed this task before.
    public func mayRun(_ task: String, on worker: String, nowUnixMs: UInt64) -> Bool {
        !isQuarantined(worker, nowUnixMs: nowUnixMs) && !(failedBy[task]?.contains(worker) ?? false)
    }

    /// Forgets the failures of tasks that no longer need a worker (finished, cancelled or failed jobs).
    public mutating func forgetTasks(where isGone: (String) -> Bool) {
        failedBy = failedBy.filter { !isGone($0.key) }
    }
}
