@testable import Cluster
@testable import Coordinator
import Foundation
import TestHelpers
import XCTest

/// Issue 11 item 6: the WAL is checkpointed at clean shutdown and periodically, and a store that went back in
/// time never makes the coordinator reuse a job id.
final class StoreDurabilityTests: XCTestCase {
    func testCleanCloseCheckpointsSoLosingTheWALLosesNothing() throws {
        let path = StoreTestSupport.path()
        let (store, _) = try StoreTestSupport.storeWithJob(path)
        try store.transaction { try store.setJobState("job-1", .done, finishedMs: 5, exportPath: "/e/job-1/best") }
        XCTAssertGreaterThan(StoreTestSupport.fileSize(path + "-wal") ?? 0, 0, "commits sit in the WAL before the checkpoint")
        try store.close()
        XCTAssertEqual(StoreTestSupport.fileSize(path + "-wal") ?? 0, 0)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let reopened = try JobStore(path: path)
        XCTAssertEqual(try reopened.loadJobs().map(\.state), [.done])
        XCTAssertEqual(try reopened.loadJobs().map(\.exportPath), ["/e/job-1/best"])
        XCTAssertEqual(reopened.warnings, [])
    }

    func testACheckpointIsDueAfterNCommits() throws {
        let path = StoreTestSupport.path()
        let store = try JobStore(path: path, checkpoints: CheckpointPolicy(everyCommits: 3, interval: .seconds(3600)))
        XCTAssertFalse(try store.checkpointIfDue(), "nothing committed yet")
        for i in 0..<3 {
            XCTAssertFalse(try store.checkpointIfDue())
            try store.recordBlob(hash: "h\(i)", path: "/p\(i)", size: 1, mtimeMs: 1)
        }
        XCTAssertGreaterThan(StoreTestSupport.fileSize(path + "-wal") ?? 0, 0)
        XCTAssertTrue(try store.checkpointIfDue())
        XCTAssertEqual(StoreTestSupport.fileSize(path + "-wal"), 0)
        XCTAssertFalse(try store.checkpointIfDue())
    }

    func testACheckpointIsDueAfterTheIntervalOnceAnythingWasCommitted() throws {
        let store = try JobStore(path: StoreTestSupport.path(), checkpoints: CheckpointPolicy(everyCommits: 1000, interval: .seconds(60)))
        XCTAssertFalse(try store.checkpointIfDue(now: .now + .seconds(120)), "idle: nothing to copy")
        try store.recordBlob(hash: "h", path: "/p", size: 1, mtimeMs: 1)
        XCTAssertFalse(try store.checkpointIfDue(now: .now + .seconds(30)))
        XCTAssertTrue(try store.checkpointIfDue(now: .now + .seconds(200)))
    }

    func testAStoreThatLostJobsNumbersAboveTheHighWaterMark() throws {
        let path = StoreTestSupport.path()
        do {
            let store = try JobStore(path: path)
            for _ in 0..<3 {
                let (id, seq) = try store.nextJobID()
                try store.transaction { try store.insertJob(try SampleJob.job(id: id), seq: seq) }
            }
            XCTAssertEqual(try store.loadJobs().map(\.id), ["job-1", "job-2", "job-3"])
        }
        XCTAssertEqual(try StoreTestSupport.marks(path).highestJobSeq, 3)
        try StoreTestSupport.removeDatabase(path)
        let store = try JobStore(path: path)
        XCTAssertEqual(store.warnings.count, 1)
        let warning = try XCTUnwrap(store.warnings.first)
        XCTAssertTrue(warning.hasPrefix("the store lost jobs: \(path) holds jobs up to job-0 but job-3 was issued"), warning)
        XCTAssertTrue(warning.contains("New jobs are numbered from job-4"), warning)
        XCTAssertEqual(try store.nextJobID().id, "job-4")
        XCTAssertEqual(try StoreTestSupport.marks(path).highestJobSeq, 4)
    }

    func testNextJobIDSkipsIDsTakenOutsideTheDatabase() throws {
        let store = try JobStore(path: StoreTestSupport.path())
        XCTAssertEqual(try store.nextJobID(skipping: { ["job-1", "job-2"].contains($0) }).id, "job-3")
        // Issued but never committed: still never reused.
        XCTAssertEqual(try store.nextJobID().id, "job-4")
    }

    func testADatabaseWithoutAMarkCatchesTheMarkUp() throws {
        let path = StoreTestSupport.path()
        do { _ = try StoreTestSupport.storeWithJob(path) }
        try FileManager.default.removeItem(atPath: path + ".marks")
        let store = try JobStore(path: path)
        XCTAssertEqual(store.warnings, [])
        XCTAssertEqual(try StoreTestSupport.marks(path).highestJobSeq, 1)
        XCTAssertEqual(try store.nextJobID().id, "job-2")
    }

    func testTheFormerJobSeqMarkIsReadAndReplacedByTheMarksFile() throws {
        let path = StoreTestSupport.path()
        do { _ = try JobStore(path: path) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".marks"), "nothing to record yet")
        try "7\n".write(toFile: path + ".jobseq", atomically: true, encoding: .utf8)
        let store = try JobStore(path: path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".jobseq"), "superseded by the marks file")
        XCTAssertEqual(try StoreTestSupport.marks(path).highestJobSeq, 7)
        XCTAssertEqual(try store.nextJobID().id, "job-8")
    }

    func testAnUnreadableLegacyMarkIsAClearError() throws {
        let path = StoreTestSupport.path()
        do { _ = try JobStore(path: path) }
        try "seven\n".write(toFile: path + ".jobseq", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JobStore(path: path)) { error in
            XCTAssertEqual("\(error)", "job id high-water mark \(path).jobseq is unreadable (not a job number: \"seven\"); fix or delete it to number jobs from the database alone")
        }
    }
}
