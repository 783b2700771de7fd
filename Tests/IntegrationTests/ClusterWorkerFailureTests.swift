@testable import Cluster
import Foundation
import XCTest

/// Item 3: task failures are charged to workers. One broken worker is quarantined and its tasks finish
/// elsewhere; only a task that fails on several distinct workers fails its job.
final class ClusterWorkerFailureTests: XCTestCase {
    private var cluster: TestCluster?

    override func tearDown() {
        cluster?.shutdown()
        cluster = nil
    }

    func testBrokenWorkerIsQuarantinedAndItsTasksFinishElsewhere() throws {
        // A long liveness: the played worker pauses while the test runs status commands.
        let c = try TestCluster(name: "broken", liveness: 40)
        cluster = c
        try c.startCoordinator()
        let job = try c.submit(try c.writeJob(iterations: 3, shards: 2, minMs: 10))
        let broken = try FakeWorker("broken", endpoint: c.endpoint)
        try broken.register()
        do {
            for _ in 0..<3 { try broken.fail(try broken.nextAssignment()) }
            try broken.waitUntil("quarantine") {
                c.coordinator!.log.contains("worker broken failed 3 tasks in a row; quarantined")
            }
            let workers = try c.status()["workers"] as? [[String: Any]] ?? []
            let entry = workers.first { $0["id"] as? String == "broken" }
            XCTAssertEqual(entry?["state"] as? String, "quarantined", "status shows the quarantine: \(workers)")
            XCTAssertEqual(entry?["running"] as? Int, 0, "a quarantined worker holds no tasks")
            let waiting = try c.job(job)
            XCTAssertEqual(waiting["state"] as? String, "running", "one worker's failures do not fail the job")
            XCTAssertGreaterThan(waiting["tasks_waiting_for_another_worker"] as? Int ?? 0, 0,
                                 "status says the failed tasks wait for a worker that has not failed them")

            try c.startWorker("honest")
            let finished = try c.waitForJob(job, timeout: 60)
            assertCompleteHistory(finished, iterations: 3)
            for arm in finished["history"] as? [[String: Any]] ?? [] {
                XCTAssertEqual(arm["workers"] as? [String], ["honest"], "every counted shard came from the healthy worker: \(arm)")
            }
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    func testTaskFailingOnThreeDistinctWorkersFailsTheJob() throws {
        let c = try TestCluster(name: "distinct", liveness: 40)
        cluster = c
        try c.startCoordinator()
        let job = try c.submit(try c.writeJob(iterations: 1, shards: 1, minMs: 10))
        do {
            var workers: [FakeWorker] = []
            var failedTask: String?
            for name in ["w1", "w2", "w3"] {
                let worker = try FakeWorker(name, endpoint: c.endpoint)
                workers.append(worker)
                try worker.register()
                let assignment = try worker.nextAssignment()
                XCTAssertEqual(assignment.taskID, failedTask ?? assignment.taskID, "the same task, retried on another worker")
                failedTask = assignment.taskID
                try worker.fail(assignment, reason: "bad spec on \(name)")
            }
            let finished = try c.waitForJob(job, timeout: 30)
            XCTAssertEqual(finished["state"] as? String, "failed")
            let message = finished["message"] as? String ?? ""
            XCTAssertTrue(message.contains("failed on 3 distinct workers (w1, w2, w3)"), message)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }
}
