@testable import Cluster
@testable import Coordinator
import Foundation
@testable import Fusion
import Guards
import TestHelpers
import XCTest

/// The store's rows read back exactly as written, and a transaction is all or nothing.
final class JobStoreTests: XCTestCase {
    func testJobInsertAndLoadRoundTrip() throws {
        let (store, job) = try StoreTestSupport.storeWithJob(completedArms: 3)
        let loaded = try store.loadJobs()
        XCTAssertEqual(loaded.count, 1)
        let back = try XCTUnwrap(loaded.first)
        XCTAssertEqual(back.id, "job-1")
        XCTAssertEqual(back.kind, "merge-search")
        XCTAssertEqual(back.specYAML, job.specYAML)
        XCTAssertEqual(back.prepared, job.prepared)
        XCTAssertEqual(back.prepared.shards.count, 2)
        XCTAssertEqual(back.state, .running)
        XCTAssertEqual(back.submitter, "bench")
        XCTAssertEqual(back.createdMs, 1_700_000_000_000)
        XCTAssertNil(back.finishedMs)
        XCTAssertNil(back.exportPath)
        XCTAssertEqual(back.search.history, job.search.history)
        XCTAssertEqual(back.search.history.count, 3)
        XCTAssertEqual(try store.loadJobs(states: [.done]).count, 0)

        try store.setJobState("job-1", .done, finishedMs: 1_700_000_000_500, exportPath: "/exports/job-1/best", message: "ok")
        // COALESCE: a later update without an export path keeps the recorded one.
        try store.setJobState("job-1", .done, message: "again")
        let done = try XCTUnwrap(try store.loadJobs(states: [.done]).first)
        XCTAssertEqual(done.finishedMs, 1_700_000_000_500)
        XCTAssertEqual(done.exportPath, "/exports/job-1/best")
        XCTAssertEqual(done.message, "again")
        XCTAssertEqual(try store.loadJobs(states: [.running]).count, 0)
    }

    func testArmsAndTasksAreInsertedInOrder() throws {
        let (store, job) = try StoreTestSupport.storeWithJob()
        var search = job.search
        let arms = [search.ask(), search.ask()]
        try store.transaction {
            for arm in arms {
                try store.insertArm(job: "job-1", arm: arm, shardCount: 2, issuedMs: 1000 + UInt64(arm.id.rawValue))
                for shard in 0..<2 { try store.insertTask(StoreTestSupport.lease("job-1", arm: arm.id.rawValue, shard: shard)) }
            }
            try store.saveSearch(job: "job-1", search)
        }
        let storedArms = try store.loadArms(job: "job-1")
        XCTAssertEqual(storedArms.map(\.arm), arms)
        XCTAssertEqual(storedArms.map(\.state), ["issued", "issued"])
        XCTAssertEqual(storedArms.map(\.shardCount), [2, 2])
        XCTAssertEqual(storedArms.map(\.issuedMs), arms.map { 1000 + UInt64($0.id.rawValue) })
        XCTAssertEqual(storedArms.map(\.attempts), [0, 0])
        XCTAssertEqual(storedArms.map(\.workers), ["", ""])
        XCTAssertNil(storedArms[0].counts)
        XCTAssertNil(storedArms[0].completedMs)
        let tasks = try store.loadTasks(job: "job-1")
        XCTAssertEqual(tasks.map(\.lease.taskID), arms.flatMap { arm in (0..<2).map { TaskLease.id(job: "job-1", arm: arm.id.rawValue, shard: $0) } })
        XCTAssertEqual(tasks.map(\.lease.state), [.queued, .queued, .queued, .queued])
        XCTAssertNil(tasks[0].counts)
        XCTAssertEqual(try store.loadJobs().first?.search.inFlight, arms)
    }

    func testLeaseUpdatesAreReadBack() throws {
        let (store, _) = try StoreTestSupport.storeWithJob()
        try store.insertTask(StoreTestSupport.lease("job-1", arm: 1, shard: 0))
        let leased = StoreTestSupport.lease("job-1", arm: 1, shard: 0, state: .leased, worker: "w7", attempt: 2,
                                            deadline: 1_700_000_060_000, leasedAt: 1_700_000_000_000)
        try store.transaction { try store.updateLease(leased) }
        XCTAssertEqual(try store.loadTasks(job: "job-1").map(\.lease), [leased])
        var requeued = leased
        requeued.state = .queued
        requeued.workerID = nil
        try store.updateLease(requeued)
        XCTAssertEqual(try store.loadTasks(job: "job-1").map(\.lease), [requeued])
    }

    func testCompletedTaskAndArmCountsReadBack() throws {
        let (store, job) = try StoreTestSupport.storeWithJob()
        var search = job.search
        let arm = search.ask()
        let a = arm.id.rawValue
        try store.insertArm(job: "job-1", arm: arm, shardCount: 2, issuedMs: 5)
        try store.insertTask(StoreTestSupport.lease("job-1", arm: a, shard: 0, state: .leased, worker: "w1", attempt: 1))
        try store.insertTask(StoreTestSupport.lease("job-1", arm: a, shard: 1, state: .leased, worker: "w2", attempt: 3))
        let first = ConfusionCounts(tp: 11, fp: 2, tn: 30, fn: 4), second = ConfusionCounts(tp: 7, fp: 1, tn: 40, fn: 0)
        let record = try search.tell(arm.id, f1: 0.8125, seconds: 2.5)
        try store.transaction {
            try store.completeTask(TaskLease.id(job: "job-1", arm: a, shard: 0), worker: "w1", counts: first, elapsedMs: 1200, completedMs: 9)
            try store.completeTask(TaskLease.id(job: "job-1", arm: a, shard: 1), worker: "w2", counts: second, elapsedMs: 800, completedMs: 10)
            try store.completeArm(job: "job-1", arm: a, counts: first + second, record: record, completedMs: 10)
        }
        let tasks = try store.loadTasks(job: "job-1")
        XCTAssertEqual(tasks.map(\.counts), [first, second])
        XCTAssertEqual(tasks.map(\.elapsedMs), [1200, 800])
        XCTAssertEqual(tasks.map(\.lease.state), [.done, .done])
        let stored = try XCTUnwrap(try store.loadArms(job: "job-1").first)
        XCTAssertEqual(stored.state, "done")
        XCTAssertEqual(stored.counts, ConfusionCounts(tp: 18, fp: 3, tn: 70, fn: 4))
        XCTAssertEqual(stored.f1, 0.8125)
        XCTAssertEqual(stored.iteration, record.iteration)
        XCTAssertEqual(stored.seconds, 2.5)
        XCTAssertEqual(stored.completedMs, 10)
        XCTAssertEqual(Set(stored.workers.split(separator: ",")), ["w1", "w2"])
        XCTAssertEqual(stored.attempts, 3)
    }

    func testCancelDropsOpenTasksAndAbandonsIssuedArms() throws {
        let (store, job) = try StoreTestSupport.storeWithJob()
        var search = job.search
        let (done, open) = (search.ask(), search.ask())
        try store.transaction {
            for arm in [done, open] { try store.insertArm(job: "job-1", arm: arm, shardCount: 1, issuedMs: 1) }
            try store.insertTask(StoreTestSupport.lease("job-1", arm: done.id.rawValue, shard: 0, state: .leased, worker: "w1", attempt: 1))
            try store.insertTask(StoreTestSupport.lease("job-1", arm: open.id.rawValue, shard: 0, state: .leased, worker: "w1", attempt: 1))
            try store.insertTask(StoreTestSupport.lease("job-1", arm: open.id.rawValue, shard: 1))
            try store.completeTask(TaskLease.id(job: "job-1", arm: done.id.rawValue, shard: 0), worker: "w1",
                                   counts: ConfusionCounts(tp: 1), elapsedMs: 1, completedMs: 2)
            try store.completeArm(job: "job-1", arm: done.id.rawValue, counts: ConfusionCounts(tp: 1),
                                  record: try search.tell(done.id, f1: 1), completedMs: 2)
        }
        try store.transaction {
            try store.cancelTasks(job: "job-1")
            try store.abandonArms(job: "job-1")
            try store.setJobState("job-1", .cancelled, finishedMs: 3, message: "cancelled")
        }
        XCTAssertEqual(try store.loadTasks(job: "job-1").map(\.lease.state), [.done, .cancelled, .cancelled])
        XCTAssertEqual(try store.loadArms(job: "job-1").map(\.state), ["done", "abandoned"])
        XCTAssertEqual(try store.loadJobs().map(\.state), [.cancelled])
    }

    func testWorkerUpsertKeepsFirstSeenAndUpdatesTheRest() throws {
        let store = try JobStore(path: StoreTestSupport.path())
        let settings = HeartbeatSettings(interval: .milliseconds(1000), liveness: 3)
        var member = WorkerMember(id: "w1", routingID: Data("r".utf8), hostname: "alpha", slots: 2, softwareVersion: "1.0",
                                  blasCore: "Haswell", heartbeat: Heartbeat(settings: settings, now: .now), nowUnixMs: 100)
        try store.upsertWorker(member, state: "alive")
        member.hostname = "beta"
        member.slots = 4
        member.lastHeardUnixMs = 250
        try store.upsertWorker(member, state: "alive")
        try store.setWorkerState("w1", "dead", lastSeenMs: 300)
        let rows = try store.db.rows("SELECT id, hostname, slots, software_version, blas_core, first_seen_ms, last_seen_ms, state FROM workers")
        XCTAssertEqual(rows.count, 1)
        let row = try XCTUnwrap(rows.first)
        XCTAssertEqual(try row.value(1) as String, "beta")
        XCTAssertEqual(try row.value(2) as Int, 4)
        XCTAssertEqual(try row.value(4) as String, "Haswell")
        XCTAssertEqual(try row.value(5) as Int64, 100)
        XCTAssertEqual(try row.value(6) as Int64, 300)
        XCTAssertEqual(try row.value(7) as String, "dead")
    }

    func testBlobHashesMatchOnPathSizeAndMtime() throws {
        let store = try JobStore(path: StoreTestSupport.path())
        try store.recordBlob(hash: "h1", path: "/m/a/model.safetensors", size: 90_000_000, mtimeMs: 1_700_000_000_123)
        try store.recordBlob(hash: "h2", path: "/m/b/model.safetensors", size: 5, mtimeMs: -7)
        XCTAssertEqual(try store.knownHash(path: "/m/a/model.safetensors", size: 90_000_000, mtimeMs: 1_700_000_000_123), "h1")
        XCTAssertNil(try store.knownHash(path: "/m/a/model.safetensors", size: 90_000_001, mtimeMs: 1_700_000_000_123))
        XCTAssertNil(try store.knownHash(path: "/m/a/model.safetensors", size: 90_000_000, mtimeMs: 1))
        // The same path re-hashed replaces its row.
        try store.recordBlob(hash: "h3", path: "/m/a/model.safetensors", size: 91_000_000, mtimeMs: 1_700_000_000_999)
        XCTAssertEqual(try store.loadBlobHashes(), [
            SubmissionQueue.cacheKey("/m/a/model.safetensors", 91_000_000, 1_700_000_000_999): "h3",
            SubmissionQueue.cacheKey("/m/b/model.safetensors", 5, -7): "h2",
        ])
    }

    func testCheckpointRowsAreRecorded() throws {
        let (store, _) = try StoreTestSupport.storeWithJob()
        try store.transaction {
            try store.setJobState("job-1", .done, finishedMs: 42, exportPath: "/e/job-1/best")
            try store.recordCheckpoint(job: "job-1", kind: "best-arm", path: "/e/job-1/best", createdMs: 42)
        }
        let checkpoints = try store.loadCheckpoints(job: "job-1")
        XCTAssertEqual(checkpoints.map(\.kind), ["best-arm"])
        XCTAssertEqual(checkpoints.map(\.path), ["/e/job-1/best"])
        XCTAssertEqual(try store.loadCheckpoints(job: "job-2").count, 0)
    }

    func testAThrowingTransactionRollsBackEverything() throws {
        struct Stop: Error {}
        let store = try JobStore(path: StoreTestSupport.path())
        let job = try SampleJob.job(id: "job-1")
        var search = job.search
        let arm = search.ask()
        XCTAssertThrowsError(try store.transaction {
            try store.insertJob(job, seq: 1)
            try store.insertArm(job: "job-1", arm: arm, shardCount: 1, issuedMs: 1)
            try store.insertTask(StoreTestSupport.lease("job-1", arm: arm.id.rawValue, shard: 0))
            try store.recordBlob(hash: "h", path: "/p", size: 1, mtimeMs: 1)
            throw Stop()
        }) { XCTAssertTrue($0 is Stop) }
        XCTAssertEqual(try store.loadJobs().count, 0)
        XCTAssertEqual(try store.loadArms(job: "job-1").count, 0)
        XCTAssertEqual(try store.loadTasks(job: "job-1").count, 0)
        XCTAssertEqual(try store.loadBlobHashes().count, 0)
        // The store is usable afterwards, and the same rows commit.
        try store.transaction { try store.insertJob(job, seq: 1) }
        XCTAssertEqual(try store.loadJobs().map(\.id), ["job-1"])
    }

    func testAValueBeyondInt64IsAnErrorAndRollsBack() throws {
        let (store, _) = try StoreTestSupport.storeWithJob()
        try store.insertTask(StoreTestSupport.lease("job-1", arm: 1, shard: 0, state: .leased, worker: "w1", attempt: 1))
        XCTAssertThrowsError(try store.transaction {
            try store.setJobState("job-1", .exporting)
            try store.completeTask(TaskLease.id(job: "job-1", arm: 1, shard: 0), worker: "w1", counts: ConfusionCounts(tp: 1),
                                   elapsedMs: UInt64(Int64.max) + 1, completedMs: 2)
        }) { error in
            XCTAssertEqual("\(error)", "tasks.elapsed_ms = 9223372036854775808 is outside 0...9223372036854775807; not stored")
        }
        XCTAssertEqual(try store.loadJobs().map(\.state), [.running])
        XCTAssertEqual(try store.loadTasks(job: "job-1").map(\.lease.state), [.leased])
        XCTAssertThrowsError(try store.recordBlob(hash: "h", path: "/p", size: .max, mtimeMs: 0))
    }

    func testReopeningKeepsCommittedData() throws {
        let path = StoreTestSupport.path()
        do {
            let (store, _) = try StoreTestSupport.storeWithJob(path)
            try store.insertTask(StoreTestSupport.lease("job-1", arm: 1, shard: 0, state: .leased, worker: "w1", attempt: 1, deadline: 77))
            try store.recordBlob(hash: "h", path: "/p", size: 3, mtimeMs: 4)
        }
        let store = try JobStore(path: path)
        XCTAssertEqual(try store.loadJobs().map(\.id), ["job-1"])
        XCTAssertEqual(try store.loadTasks(job: "job-1").map(\.lease.deadlineUnixMs), [77])
        XCTAssertEqual(try store.loadBlobHashes(), [SubmissionQueue.cacheKey("/p", 3, 4): "h"])
        XCTAssertEqual(try store.nextJobID().id, "job-2")
    }

    func testANonSQLiteFileIsAClearErrorNamingThePath() throws {
        let path = StoreTestSupport.path()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(String(repeating: "not a database at all\n", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try JobStore(path: path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("cannot open the coordinator database \(path): "), text)
            XCTAssertTrue(text.contains("not a database"), text)
        }
    }
}
