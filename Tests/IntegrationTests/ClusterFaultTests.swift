import Foundation
import XCTest

/// Fault tolerance with real processes: workers and the coordinator killed with SIGKILL mid-job, a worker
/// joining mid-job, a cancelled job. Every wait is bounded.
final class ClusterFaultTests: XCTestCase {
    private var cluster: TestCluster?

    override func tearDown() {
        cluster?.shutdown()
        cluster = nil
    }

    private func make(_ name: String) throws -> TestCluster {
        let c = try TestCluster(name: name)
        cluster = c
        return c
    }

    /// kill -9 a worker mid-job: its leases return after the liveness timeout, the job completes, every issued
    /// arm is evaluated exactly once.
    func testWorkerKilledMidJob() throws {
        let c = try make("kill-worker")
        try c.startCoordinator()
        let victim = try c.startWorker("victim")
        try c.startWorker("survivor")
        try waitUntil("two workers", timeout: 15) { try c.workerIDs().count == 2 }
        let iterations = 12
        let job = try c.submit(try c.writeJob(iterations: iterations))
        do {
            try c.waitForArms(job, atLeast: 3, timeout: 40)
            // Freeze the victim at a moment it holds a lease: frozen it can neither finish nor report that
            // shard, so after the kill the shard must be leased again (attempt 2), whatever the timing.
            try waitUntil("the victim holds a lease", timeout: 30) {
                victim.freeze()
                if try c.runningTasks(of: "victim") > 0 { return true }
                victim.thaw()
                return false
            }
            victim.kill9()
            try waitUntil("victim expired", timeout: 15) { try !c.workerIDs().contains("victim") }
            let finished = try c.waitForJob(job, timeout: 90)
            assertCompleteHistory(finished, iterations: iterations)
            let history = finished["history"] as? [[String: Any]] ?? []
            XCTAssertTrue(history.contains { ($0["attempts"] as? Int ?? 0) >= 2 },
                          "the victim's leased shard was handed out again")
            XCTAssertTrue(c.coordinator!.log.contains("missed \(TestCluster.liveness) heartbeats"))
            XCTAssertNotNil(finished["export_path"] as? String, "best arm exported")
            if let path = finished["export_path"] as? String {
                XCTAssertTrue(FileManager.default.fileExists(atPath: path + "/model.safetensors"))
            }
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// kill -9 the coordinator mid-job and restart it on the same endpoint: the job resumes, completed
    /// evaluations are kept (not repeated), workers reconnect by themselves.
    func testCoordinatorKilledAndRestarted() throws {
        let c = try make("kill-coordinator")
        let first = try c.startCoordinator()
        try c.startWorker("a")
        try c.startWorker("b")
        try waitUntil("two workers", timeout: 15) { try c.workerIDs().count == 2 }
        let iterations = 14
        let job = try c.submit(try c.writeJob(iterations: iterations))
        do {
            try c.waitForArms(job, atLeast: 4, timeout: 40)
            let before = try c.job(job)
            first.kill9()
            let completedBefore = (before["history"] as? [[String: Any]] ?? []).filter { $0["state"] as? String == "done" }
            XCTAssertGreaterThanOrEqual(completedBefore.count, 4)
            Thread.sleep(forTimeInterval: 0.5)
            try c.startCoordinator(bind: c.endpoint)
            try waitUntil("workers reconnect by themselves", timeout: 20) { try c.workerIDs() == ["a", "b"] }
            let finished = try c.waitForJob(job, timeout: 90)
            assertCompleteHistory(finished, iterations: iterations)
            let after = Dictionary(uniqueKeysWithValues: (finished["history"] as? [[String: Any]] ?? []).compactMap { h in
                (h["arm"] as? Int).map { ($0, h) }
            })
            for old in completedBefore {
                let arm = old["arm"] as? Int ?? -1
                let new = try XCTUnwrap(after[arm], "arm \(arm) kept")
                XCTAssertEqual(new["iteration"] as? Int, old["iteration"] as? Int, "arm \(arm) keeps its place")
                XCTAssertEqual(new["f1"] as? Double, old["f1"] as? Double, "arm \(arm) keeps its result")
                XCTAssertEqual(new["completed_unix_ms"] as? Int, old["completed_unix_ms"] as? Int,
                               "arm \(arm) was not evaluated again")
            }
            XCTAssertTrue(c.coordinator!.log.contains("resumed \(job)"))
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// A worker that joins while a job runs receives work.
    func testWorkerJoiningMidJobGetsWork() throws {
        let c = try make("join")
        try c.startCoordinator()
        try c.startWorker("early")
        try waitUntil("one worker", timeout: 15) { try c.workerIDs() == ["early"] }
        let iterations = 12
        let job = try c.submit(try c.writeJob(iterations: iterations))
        do {
            try c.waitForArms(job, atLeast: 2, timeout: 40)
            try c.startWorker("late")
            let finished = try c.waitForJob(job, timeout: 90)
            assertCompleteHistory(finished, iterations: iterations)
            let history = finished["history"] as? [[String: Any]] ?? []
            let workers = Set(history.flatMap { $0["workers"] as? [String] ?? [] })
            XCTAssertTrue(workers.contains("late"), "the late worker evaluated shards: \(workers)")
            XCTAssertTrue(workers.contains("early"))
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// A cancelled job stops handing out arms; workers drop its tasks.
    func testCancelledJobStopsHandingOutArms() throws {
        let c = try make("cancel")
        try c.startCoordinator()
        try c.startWorker("w", slots: 2)
        try waitUntil("one worker", timeout: 15) { try c.workerIDs() == ["w"] }
        let job = try c.submit(try c.writeJob(iterations: 500, minMs: 150))
        do {
            try c.waitForArms(job, atLeast: 2, timeout: 40)
            let result = try c.client(["cancel", job])
            XCTAssertEqual(result.status, 0, result.err)
            XCTAssertEqual(result.out.trimmingCharacters(in: .whitespacesAndNewlines), "\(job): cancelled")
            let cancelled = try c.job(job)
            XCTAssertEqual(cancelled["state"] as? String, "cancelled")
            XCTAssertEqual(cancelled["arms_in_flight"] as? Int, 0)
            let issued = cancelled["arms_issued"] as? Int ?? -1
            // A property over time ("nothing happens after cancel") needs a window: several heartbeats and
            // the 150 ms evaluations that were in flight.
            Thread.sleep(forTimeInterval: 1.5)
            let later = try c.job(job)
            XCTAssertEqual(later["arms_issued"] as? Int, issued, "no arm handed out after cancel")
            XCTAssertEqual(later["arms_done"] as? Int, cancelled["arms_done"] as? Int, "no result recorded after cancel")
            XCTAssertLessThan(issued, 500)
            let worker = (try c.status()["workers"] as? [[String: Any]])?.first
            XCTAssertEqual(worker?["running"] as? Int, 0, "the worker holds no leases of the cancelled job")
            // Cancelling again reports the terminal state; an unknown job is a clear error.
            XCTAssertEqual(try c.client(["cancel", job]).out.trimmingCharacters(in: .whitespacesAndNewlines), "\(job): cancelled")
            let unknown = try c.client(["cancel", "job-999"])
            XCTAssertNotEqual(unknown.status, 0)
            XCTAssertTrue(unknown.err.contains("no job job-999"), unknown.err)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// Client commands say so clearly when nothing answers.
    func testClientReportsMissingCoordinator() throws {
        let c = try make("no-coordinator")
        let port = try TestCluster.closedPort()
        let result = try c.client(["status", "--timeout-ms", "500"], endpoint: "tcp://127.0.0.1:\(port)")
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.err.contains("no coordinator answered at tcp://127.0.0.1:\(port)"), result.err)
    }
}
