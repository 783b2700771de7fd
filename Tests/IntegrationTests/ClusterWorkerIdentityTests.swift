@testable import Cluster
import Foundation
import XCTest

/// Item 5: a worker id belongs to its live connection, and under CURVE to the first key that registered it.
final class ClusterWorkerIdentityTests: XCTestCase {
    private var cluster: TestCluster?

    override func tearDown() {
        cluster?.shutdown()
        cluster = nil
    }

    func testSecondConnectionCannotTakeOverALiveWorkerId() throws {
        let c = try TestCluster(name: "takeover", liveness: 40)
        cluster = c
        try c.startCoordinator()
        let job = try c.submit(try c.writeJob(iterations: 1, shards: 1, minMs: 10))
        let a = try FakeWorker("a", endpoint: c.endpoint)
        try a.register()
        do {
            let task = try a.nextAssignment()
            let imposter = try FakeWorker("a", routingID: "imposter", endpoint: c.endpoint)
            try imposter.register()
            let refusal = try imposter.nextError(.unauthorized)
            XCTAssertTrue(refusal.message.contains("already registered on another live connection"), refusal.message)
            try a.waitUntil("refusal logged") { c.coordinator!.log.contains("refused registration of worker a from imposter") }
            XCTAssertFalse(c.coordinator!.log.contains("requeued"), "a's lease stayed with a")
            XCTAssertEqual(try c.job(job)["queued_tasks"] as? Int, 0)
            try a.report(task.taskID, attempt: task.attempt, tp: 40, tn: 80)
            let finished = try c.waitForJob(job, timeout: 30)
            assertCompleteHistory(finished, iterations: 1)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    func testCurveKeyOwnsTheWorkerIdItRegisteredFirst() throws {
        let keys = try TestCurveKeys()
        try keys.make("alice")
        try keys.make("bob")
        let c = try TestCluster(name: "keybind", curve: keys.config, liveness: 40)
        cluster = c
        try c.startCoordinator()
        do {
            let alice = try FakeWorker("alice", endpoint: c.endpoint, curve: try keys.client("alice"))
            try alice.register()
            _ = try alice.waitFor("registration") { if case .registerAck(let ack) = $0 { return ack } else { return nil } }
            try alice.goodbye()
            try waitUntil("alice left", timeout: 15) { try c.workerIDs().isEmpty }
            // Bob's key is allowed, but the id is alice's: refused even though alice is gone.
            let bob = try FakeWorker("alice", routingID: "bob", endpoint: c.endpoint, curve: try keys.client("bob"))
            try bob.register()
            let refusal = try bob.nextError(.unauthorized)
            XCTAssertTrue(refusal.message.contains("belongs to another CURVE key"), refusal.message)
            let bindings = try String(contentsOfFile: "\(c.root)/var/coordinator.sqlite.worker-keys.json", encoding: .utf8)
            XCTAssertTrue(bindings.contains("\"alice\""), "the binding is persisted: \(bindings)")

            // The real worker, refused for good, says why and exits instead of retrying forever.
            let worker = try c.startWorker("alice", extra: ["--curve-server-key", keys.serverKeyPath,
                                                            "--curve-secret-key", keys.secretKeyPath("bob")])
            try waitUntil("refused worker exits", timeout: 20) { !worker.isRunning }
            XCTAssertEqual(worker.process.terminationStatus, 1)
            XCTAssertTrue(worker.log.contains("the coordinator refused this worker: worker id 'alice' belongs to another CURVE key"), worker.log)
            XCTAssertEqual(try c.workerIDs(), [])
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }
}
