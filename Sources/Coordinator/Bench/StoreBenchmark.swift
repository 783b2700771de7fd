import Cluster
import Foundation
import Fusion
import Guards

/// Times the store's hot paths on a fresh database, each operation its own committed transaction as in the
/// coordinator: dispatch (insert an arm and its task), a task result (complete task and arm, save the search
/// state) and a restart's load of every task. Figures are per second of wall time.
struct StoreBenchmark {
    /// Arms the saved search has already reported: its JSON is what every result transaction rewrites.
    static let searchHistory = 30

    let operations: Int
    let path: String

    func run() throws -> [String: Any] {
        let store = try JobStore(path: path)
        let job = try SampleJob.job(id: "job-1", shards: 1, completedArms: Self.searchHistory)
        try store.transaction { try store.insertJob(job, seq: 1) }
        var search = job.search
        let arms = (0..<operations).map { _ in search.ask() }

        let insert = try Self.time {
            for arm in arms {
                try store.transaction {
                    try store.insertArm(job: job.id, arm: arm, shardCount: 1, issuedMs: 1)
                    try store.insertTask(Self.lease(job.id, arm.id.rawValue))
                }
            }
        }
        let counts = ConfusionCounts(tp: 40, fp: 10, tn: 45, fn: 5)
        let record = try SampleJob.search(completedArms: 1).history[0]
        let result = try Self.time {
            for arm in arms {
                try store.transaction {
                    try store.completeTask(Self.lease(job.id, arm.id.rawValue).taskID, worker: "w1", counts: counts,
                                           elapsedMs: 1500, completedMs: 2)
                    try store.completeArm(job: job.id, arm: arm.id.rawValue, counts: counts, record: record, completedMs: 2)
                    try store.saveSearch(job: job.id, job.search)
                }
            }
        }
        // Best of three: the first read also pays for warming the page cache.
        var load = Double.infinity
        var loaded = 0
        for _ in 0..<3 {
            load = min(load, try Self.time { loaded = try store.loadTasks(job: job.id).count })
        }
        guard loaded == operations else { throw StoreError.benchmark("loaded \(loaded) tasks, inserted \(operations)") }
        return [
            "benchmark": "store", "operations": operations,
            "insert_commits_per_s": Self.rate(operations, insert), "inserts_per_s": Self.rate(2 * operations, insert),
            "result_commits_per_s": Self.rate(operations, result),
            "load_tasks_s": (load * 1e4).rounded() / 1e4, "load_rows_per_s": Self.rate(loaded, load),
            "search_json_bytes": try JobStore.json(job.search).utf8.count,
        ]
    }

    static func lease(_ job: String, _ arm: Int) -> TaskLease {
        TaskLease(taskID: TaskLease.id(job: job, arm: arm, shard: 0), jobID: job, armID: arm, shard: 0, state: .leased,
                  workerID: "w1", attempt: 1, deadlineUnixMs: 60_000, leasedAtUnixMs: 1)
    }

    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func rate(_ count: Int, _ seconds: Double) -> Double { (Double(count) / seconds).rounded() }
}
