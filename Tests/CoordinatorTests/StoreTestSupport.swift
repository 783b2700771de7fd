@testable import Cluster
@testable import Coordinator
import Foundation
import TestHelpers

/// A fresh database path per test, and the leases the store tests write.
enum StoreTestSupport {
    static func path() -> String { TestSupport.tempDir().appendingPathComponent("state/coordinator.sqlite").path }

    /// A store with job-1 (two shards) inserted through `nextJobID`, as a submission does.
    static func storeWithJob(_ path: String = path(), completedArms: Int = 2) throws -> (JobStore, StoredJob) {
        let store = try JobStore(path: path)
        let (id, seq) = try store.nextJobID()
        let job = try SampleJob.job(id: id, shards: 2, completedArms: completedArms)
        try store.transaction { try store.insertJob(job, seq: seq) }
        return (store, job)
    }

    static func lease(_ job: String, arm: Int, shard: Int, state: TaskLease.State = .queued, worker: String? = nil,
                      attempt: Int = 0, deadline: UInt64 = 0, leasedAt: UInt64 = 0) -> TaskLease {
        TaskLease(taskID: TaskLease.id(job: job, arm: arm, shard: shard), jobID: job, armID: arm, shard: shard, state: state,
                  workerID: worker, attempt: attempt, deadlineUnixMs: deadline, leasedAtUnixMs: leasedAt)
    }

    /// The marks file beside the database (high-water mark and terminal jobs).
    static func marks(_ path: String) throws -> StoreMarks { try StoreMarksFile(databasePath: path).read() }

    static func fileSize(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
    }

    /// Removes the database and its WAL and shared-memory files (what losing the store looks like).
    static func removeDatabase(_ path: String) throws {
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.removeItem(atPath: path + suffix)
        }
    }
}
