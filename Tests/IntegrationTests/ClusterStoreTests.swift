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
}
