@testable import Cluster
@testable import Coordinator
import Foundation
import Fusion
import Guards
import TestHelpers
import XCTest

/// Issue 11 item 6: a store that went back in time (a corrupt WAL frame, an older copy restored) must not turn
/// finished jobs back into running ones. The marks file records every terminal job; at open, a job the marks say
/// ended but the database does not is put back as it ended, with an error naming it.
final class StoreRollbackTests: XCTestCase {
    private let finishedMs: UInt64 = 1_700_000_000_900

    /// job-1 with `arms` arms evaluated, then done and exported, as the coordinator ends a job.
    private func storeWithFinishedJob(_ path: String, arms: Int = 2) throws -> JobStore {
        let (store, job) = try StoreTestSupport.storeWithJob(path, completedArms: 0)
        var search = job.search
        try store.transaction {
            for _ in 0..<arms {
                let arm = search.ask()
                try store.insertArm(job: "job-1", arm: arm, shardCount: 2, issuedMs: 1)
                let record = try search.tell(arm.id, f1: 0.8, seconds: 1)
                try store.completeArm(job: "job-1", arm: arm.id.rawValue, counts: ConfusionCounts(tp: 1), record: record, completedMs: 2)
            }
            try store.saveSearch(job: "job-1", search)
            try store.setJobState("job-1", .done, finishedMs: finishedMs, exportPath: "/e/job-1/best")
        }
        return store
    }

    func testAFinishedJobIsRecordedInTheMarksOnceCommitted() throws {
        let path = StoreTestSupport.path()
        _ = try storeWithFinishedJob(path)
        XCTAssertEqual(try StoreTestSupport.marks(path).terminalJobs,
                       ["job-1": .init(state: .done, finishedMs: finishedMs, exportPath: "/e/job-1/best", message: nil, armsDone: 2)])

        // A transaction that fails after ending a job records nothing: the marks never claim an uncommitted end.
        let (store, _) = try StoreTestSupport.storeWithJob(StoreTestSupport.path())
        struct Abort: Error {}
        XCTAssertThrowsError(try store.transaction { try store.setJobState("job-1", .failed, finishedMs: 1); throw Abort() })
        XCTAssertEqual(try store.loadJobs().map(\.state), [.running])
        XCTAssertEqual(try StoreTestSupport.marks(store.db.path).terminalJobs, [:])
    }

    func testAJobRolledBackToRunningIsRestoredWithAnError() throws {
        let path = StoreTestSupport.path()
        do {
            let store = try storeWithFinishedJob(path)
            // What a lost WAL frame leaves: the job running, its last arm issued again with a queued task.
            try store.db.execute("UPDATE jobs SET state = 'running', finished_ms = NULL, export_path = NULL WHERE id = 'job-1'")
            try store.db.execute("""
                UPDATE arms SET state = 'issued', completed_ms = NULL, tp = NULL, fp = NULL, tn = NULL, fn = NULL, f1 = NULL
                WHERE job_id = 'job-1' AND arm_id = 2
                """)
            try store.insertTask(StoreTestSupport.lease("job-1", arm: 2, shard: 0))
            try store.close()
        }
        let marksBefore = try StoreTestSupport.marks(path)
        let store = try JobStore(path: path)
        XCTAssertEqual(store.errors.count, 1, "\(store.errors)")
        let error = try XCTUnwrap(store.errors.first)
        XCTAssertTrue(error.hasPrefix("the store went back in time: job-1 is running with 1 arms done in \(path), but \(path).marks records it done with 2 arms done, finished at \(finishedMs) (Unix ms), exported to /e/job-1/best. Restored as done instead of resuming it"), error)
        XCTAssertEqual(store.warnings, [])

        let job = try XCTUnwrap(try store.loadJobs().first)
        XCTAssertEqual(job.state, .done)
        XCTAssertEqual(job.finishedMs, finishedMs)
        XCTAssertEqual(job.exportPath, "/e/job-1/best")
        XCTAssertEqual(job.message, JobStore.restoredMessage)
        XCTAssertEqual(job.message, "restored after the store went back in time; history may be incomplete")
        XCTAssertEqual(job.search.inFlight, [], "nothing left to evaluate")
        XCTAssertEqual(try store.loadTasks(job: "job-1").map(\.lease.state), [.cancelled])
        XCTAssertEqual(try store.loadArms(job: "job-1").map(\.state), ["done", "abandoned"])
        XCTAssertEqual(try store.loadCheckpoints(job: "job-1").map(\.path), ["/e/job-1/best"])
        XCTAssertEqual(try StoreTestSupport.marks(path), marksBefore, "the marks keep what the job ended with")

        // Reported once: the next open finds the job as restored, its shorter history already explained.
        try store.close()
        let again = try JobStore(path: path)
        XCTAssertEqual(again.errors, [])
        XCTAssertEqual(try again.loadJobs().first?.message, JobStore.restoredMessage)
    }

    func testARecordThatAgreesWithTheDatabaseChangesNothing() throws {
        let path = StoreTestSupport.path()
        do { try storeWithFinishedJob(path).close() }
        let marksBefore = try Data(contentsOf: URL(fileURLWithPath: path + ".marks"))
        let store = try JobStore(path: path)
        XCTAssertEqual(store.errors, [])
        XCTAssertEqual(store.warnings, [])
        let job = try XCTUnwrap(try store.loadJobs().first)
        XCTAssertEqual(job.state, .done)
        XCTAssertNil(job.message)
        XCTAssertEqual(try store.loadArms(job: "job-1").map(\.state), ["done", "done"])
        XCTAssertEqual(try store.loadCheckpoints(job: "job-1").count, 0, "nothing was restored, so nothing recorded")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path + ".marks")), marksBefore)
    }

    func testAFinishedJobMissingFromTheDatabaseIsNamed() throws {
        let path = StoreTestSupport.path()
        do { try storeWithFinishedJob(path).close() }
        try StoreTestSupport.removeDatabase(path)
        let store = try JobStore(path: path)
        XCTAssertEqual(store.warnings.count, 1, "the lost jobs, as before")
        XCTAssertEqual(store.errors, ["""
            the store went back in time: \(path) has no trace of 1 finished jobs that \(path).marks records: job-1 \
            (done with 2 arms done, finished at \(finishedMs) (Unix ms), exported to /e/job-1/best). They cannot be \
            restored (their specs are gone); their export directories are kept.
            """])
        XCTAssertEqual(try StoreTestSupport.marks(path).terminalJobs.keys.sorted(), ["job-1"], "kept")
        XCTAssertEqual(try store.nextJobID().id, "job-2")
    }

    func testTerminalJobsTheMarksLackAreCaughtUp() throws {
        let path = StoreTestSupport.path()
        do { try storeWithFinishedJob(path).close() }
        try FileManager.default.removeItem(atPath: path + ".marks")
        let store = try JobStore(path: path)
        XCTAssertEqual(store.errors, [])
        XCTAssertEqual(try StoreTestSupport.marks(path).terminalJobs["job-1"]?.armsDone, 2)
        XCTAssertEqual(try StoreTestSupport.marks(path).highestJobSeq, 1)
    }

    func testAnUnreadableMarksFileIsAClearError() throws {
        let path = StoreTestSupport.path()
        do { _ = try JobStore(path: path) }
        try "{\"version\": 1, \"highest_job_seq\": 3, \"terminal_jobs\": {\"job-1\": {\"state\": \"running\", \"arms_done\": 1}}}"
            .write(toFile: path + ".marks", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JobStore(path: path)) { error in
            XCTAssertEqual("\(error)", "store marks \(path).marks are unreadable (job-1 is recorded as running with 1 arms done); they record issued job ids and finished jobs so a store that went back in time is caught: fix the file, or move it aside to trust the database alone")
        }
        try "{\"version\": 1, \"highest_job_seq\": \"three\", \"terminal_jobs\": {}}".write(toFile: path + ".marks", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JobStore(path: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("store marks \(path).marks are unreadable (at highest_job_seq: expected Int)"), "\(error)")
        }
        try "{not json".write(toFile: path + ".marks", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JobStore(path: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("store marks \(path).marks are unreadable ("), "\(error)")
        }
    }
}
