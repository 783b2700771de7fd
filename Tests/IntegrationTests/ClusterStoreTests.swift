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

    /// A finished job the database rolled back to running (as a corrupt WAL frame did) is restored as done from the
    /// marks file at start-up, with an error in the log and a message in its status, and nothing is evaluated again.
    func testAFinishedJobRolledBackInTheStoreIsRestoredNotRerun() throws {
        let c = try TestCluster(name: "rollback")
        cluster = c
        let database = "\(c.root)/var/coordinator.sqlite"
        do {
            try c.startCoordinator()
            let worker = try c.startWorker("w")
            let job = try c.submit(try c.writeJob(iterations: 2, minMs: 50))
            let finished = try c.waitForJob(job, timeout: 60)
            XCTAssertEqual(finished["state"] as? String, "done")
            let exportPath = try XCTUnwrap(finished["export_path"] as? String)
            c.coordinator!.terminate()

            // The store goes back in time: the job running again, its second arm issued with queued tasks.
            let sqlite = try ProcessRun("/usr/bin/sqlite3", [database, """
                UPDATE jobs SET state = 'running', finished_ms = NULL, export_path = NULL WHERE id = '\(job)';
                UPDATE arms SET state = 'issued', f1 = NULL, tp = NULL WHERE job_id = '\(job)' AND arm_id = 2;
                UPDATE tasks SET state = 'queued', worker_id = NULL WHERE job_id = '\(job)' AND arm_id = 2;
                """])
            XCTAssertEqual(sqlite.status, 0, sqlite.err)
            let accepted = { worker.log.components(separatedBy: "accepted \(job)/").count - 1 }
            let acceptedBefore = accepted()

            try c.startCoordinator(bind: c.endpoint)
            let log = c.coordinator!.log
            XCTAssertTrue(log.contains("the store went back in time: \(job) is running with 1 arms done"), log)
            XCTAssertTrue(log.contains("records it done with 2 arms done"), log)
            let restored = try c.job(job)
            XCTAssertEqual(restored["state"] as? String, "done")
            XCTAssertEqual(restored["export_path"] as? String, exportPath)
            XCTAssertEqual(restored["message"] as? String, "restored after the store went back in time; history may be incomplete")
            XCTAssertEqual(restored["queued_tasks"] as? Int, 0)
            XCTAssertTrue(FileManager.default.fileExists(atPath: exportPath), "the export is kept")
            // Several heartbeats with the worker back: nothing of the job is handed out again.
            try waitUntil("worker back", timeout: 15) { try c.workerIDs() == ["w"] }
            Thread.sleep(forTimeInterval: 1.5)
            XCTAssertEqual(accepted(), acceptedBefore, worker.log)
            let history = try c.job(job)["history"] as? [[String: Any]] ?? []
            XCTAssertEqual(history.compactMap { $0["state"] as? String }, ["done", "abandoned"])
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }
}
