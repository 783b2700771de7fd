@testable import Cluster
import Foundation
import XCTest

/// Issue 11 item 6 through real processes: a clean stop checkpoints the WAL (deleting it loses nothing), and a
/// coordinator whose store lost its jobs says so and never reuses a job id or an earlier job's export directory.
final class ClusterStoreTests: XCTestCase {
    private var cluster: TestCluster?

    override func tearDown() {
        cluster?.shutdown()
        cluster = nil
    }

    func testCleanStopCheckpointsAndALostStoreNeverReusesJobIDs() throws {
        let c = try TestCluster(name: "store")
        cluster = c
        let database = "\(c.root)/var/coordinator.sqlite"
        let fm = FileManager.default
        do {
            try c.startCoordinator()
            let job = try c.writeJob(iterations: 2)
            XCTAssertEqual(try c.submit(job), "job-1")
            c.coordinator!.terminate()
            XCTAssertTrue(c.coordinator!.log.contains("store checkpointed and closed"), c.coordinator!.log)
            XCTAssertEqual((try? fm.attributesOfItem(atPath: database + "-wal"))?[.size] as? Int ?? 0, 0)
            for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: database + suffix) }

            try c.startCoordinator()
            XCTAssertEqual(try c.job("job-1")["state"] as? String, "running", "the job survived losing the WAL")
            c.coordinator!.terminate()
            for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: database + suffix) }
            // job-2's export directory already exists (say, from an earlier store): its id is skipped too.
            try fm.createDirectory(atPath: "\(c.root)/var/exports/job-2/best", withIntermediateDirectories: true)

            try c.startCoordinator()
            XCTAssertTrue(c.coordinator!.log.contains("the store lost jobs"), c.coordinator!.log)
            XCTAssertEqual(try c.submit(job), "job-3")
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// A finished job that the database shows running again (here an older copy of the store put back, as a
    /// corrupt WAL frame did) is restored as done from the marks file at start-up, with an error in the log and a
    /// message in its status, and no arm of it is evaluated again.
    func testAFinishedJobRolledBackInTheStoreIsRestoredNotRerun() throws {
        let c = try TestCluster(name: "rollback")
        cluster = c
        let database = "\(c.root)/var/coordinator.sqlite"
        let fm = FileManager.default
        do {
            // The job submitted, nothing evaluated yet: a clean stop checkpoints it, and that file is the old copy.
            try c.startCoordinator()
            let job = try c.submit(try c.writeJob(iterations: 2, minMs: 50))
            c.coordinator!.terminate()
            try fm.copyItem(atPath: database, toPath: database + ".old")

            try c.startCoordinator(bind: c.endpoint)
            let worker = try c.startWorker("w")
            let finished = try c.waitForJob(job, timeout: 60)
            XCTAssertEqual(finished["state"] as? String, "done")
            let exportPath = try XCTUnwrap(finished["export_path"] as? String)
            c.coordinator!.terminate()

            for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: database + suffix) }
            try fm.moveItem(atPath: database + ".old", toPath: database)
            let accepted = { worker.log.components(separatedBy: "accepted \(job)/").count - 1 }
            let acceptedBefore = accepted()
            XCTAssertGreaterThan(acceptedBefore, 0, worker.log)

            try c.startCoordinator(bind: c.endpoint)
            let log = c.coordinator!.log
            XCTAssertTrue(log.contains("the store went back in time: \(job) is running with 0 arms done"), log)
            XCTAssertTrue(log.contains("records it done with 2 arms done"), log)
            XCTAssertFalse(log.contains("resumed \(job)"), log)
            let restored = try c.job(job)
            XCTAssertEqual(restored["state"] as? String, "done")
            XCTAssertEqual(restored["export_path"] as? String, exportPath)
            XCTAssertEqual(restored["message"] as? String, "restored after the store went back in time; history may be incomplete")
            XCTAssertTrue(fm.fileExists(atPath: exportPath), "the export is kept")
            // Several heartbeats with the worker back: nothing of the job is handed out again.
            try waitUntil("worker back", timeout: 15) { try c.workerIDs() == ["w"] }
            Thread.sleep(forTimeInterval: 1.5)
            XCTAssertEqual(accepted(), acceptedBefore, worker.log)
            let after = try c.job(job)
            XCTAssertEqual(after["state"] as? String, "done")
            XCTAssertEqual(after["queued_tasks"] as? Int, 0)
            XCTAssertEqual(after["arms_in_flight"] as? Int, 0)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }
}
