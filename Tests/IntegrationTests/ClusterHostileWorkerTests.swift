@testable import Cluster
import Foundation
import XCTest

/// Registered workers that lie: impossible counts, results for tasks they were never given or no longer hold,
/// replays, and a hung task heartbeated forever. The coordinator counts only the lease holder's current attempt,
/// with exactly the shard's samples, stays up, and an honest worker finishes every arm counted exactly once.
final class ClusterHostileWorkerTests: XCTestCase {
    private var cluster: TestCluster?

    override func tearDown() {
        cluster?.shutdown()
        cluster = nil
    }

    func testImpossibleCountsAreRejectedNotTrapped() throws {
        let c = try TestCluster(name: "hostile")
        cluster = c
        try c.startCoordinator()
        // Submitted before any worker exists, so the hostile one gets the first tasks.
        let job = try c.submit(try c.writeJob(iterations: 2, shards: 2, minMs: 10))
        let hostile = try FakeWorker("hostile", endpoint: c.endpoint)
        try hostile.register()
        do {
            for counts in [(tp: UInt64(1), fn: UInt64.max), (tp: UInt64(1_000_000), fn: UInt64(0))] {
                let assignment = try hostile.nextAssignment()
                try hostile.report(assignment.taskID, attempt: assignment.attempt, tp: counts.tp, fn: counts.fn)
                // Reported: like a real worker, it no longer lists the task as running.
                hostile.held.removeAll()
            }
            try hostile.goodbye()
            try waitUntil("both results rejected", timeout: 15) {
                let log = c.coordinator!.log
                return log.contains("fn = 18446744073709551615 does not fit") && log.contains("1000000 samples counted in a shard of")
            }
            try c.startWorker("honest")
            let finished = try c.waitForJob(job, timeout: 60)
            assertCompleteHistory(finished, iterations: 2)
            XCTAssertTrue(c.coordinator!.isRunning)
            let history = finished["history"] as? [[String: Any]] ?? []
            XCTAssertTrue(history.contains { ($0["attempts"] as? Int ?? 0) >= 2 }, "the rejected shards were handed out again")
            assertEveryArmCountsAllLinesOnce(history)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// An elapsed time beyond what the store can hold (2^64-1 ms) is rejected like impossible counts: stored, it
    /// would fail the commit and stop the coordinator.
    func testImpossibleElapsedTimeIsRejectedNotStored() throws {
        let c = try TestCluster(name: "hostile-elapsed")
        cluster = c
        try c.startCoordinator()
        let job = try c.submit(try c.writeJob(iterations: 1, shards: 1, minMs: 10))
        let hostile = try FakeWorker("hostile", endpoint: c.endpoint)
        try hostile.register()
        do {
            let assignment = try hostile.nextAssignment()
            try hostile.report(assignment.taskID, attempt: assignment.attempt, tp: 40, tn: 80, elapsedMs: .max)
            hostile.held.removeAll()
            try hostile.goodbye()
            try waitUntil("result rejected", timeout: 15) { c.coordinator!.log.contains("ms is not a duration; result rejected") }
            try c.startWorker("honest")
            let finished = try c.waitForJob(job, timeout: 60)
            assertCompleteHistory(finished, iterations: 1)
            XCTAssertTrue(c.coordinator!.isRunning)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// Item 2: a result for a queued task, for another worker's lease, for a wrong attempt, a replay, or with a
    /// total other than the shard's 60 samples does not count.
    func testResultsCountOnlyFromTheLeaseHolderForTheCurrentAttempt() throws {
        let c = try TestCluster(name: "holder")
        cluster = c
        try c.startCoordinator()
        let job = try c.submit(try c.writeJob(iterations: 2, shards: 2, minMs: 10))
        let mallory = try FakeWorker("mallory", endpoint: c.endpoint)
        try mallory.register()
        do {
            let mine = try mallory.nextAssignment()
            let queued = Self.otherShard(of: mine.taskID)
            // A perfect score for the shard nobody holds yet (task ids are predictable).
            try mallory.report(queued, attempt: 1, tp: 20, tn: 40)
            try mallory.waitUntil("result for the queued task rejected") {
                c.coordinator!.log.contains("result for \(queued) (attempt 1) from worker mallory rejected: the task is not leased")
            }
            try mallory.report(mine.taskID, attempt: mine.attempt + 1, tp: 20, tn: 40)
            try mallory.waitUntil("result for a future attempt rejected") {
                c.coordinator!.log.contains("from worker mallory rejected: the lease was granted again since")
            }
            // The holder's own result counts once, however often it is sent.
            try mallory.report(mine.taskID, attempt: mine.attempt, tp: 20, tn: 40)
            try mallory.report(mine.taskID, attempt: mine.attempt, tp: 20, tn: 40)
            let next = try mallory.nextAssignment()
            try mallory.waitUntil("the replay acknowledged, not counted") {
                c.coordinator!.log.contains("result for \(mine.taskID) from mallory was already counted")
            }
            let eve = try FakeWorker("eve", endpoint: c.endpoint)
            try eve.register()
            try eve.report(next.taskID, attempt: next.attempt, tp: 20, tn: 40)
            try mallory.waitUntil("another worker's result rejected") {
                c.coordinator!.log.contains("from worker eve rejected: the task is leased to mallory")
            }
            // One sample short of the shard: rejected (the old check accepted anything up to the line count).
            try mallory.report(next.taskID, attempt: next.attempt, tp: 20, tn: 39)
            try mallory.waitUntil("a short total rejected") {
                c.coordinator!.log.contains("59 samples counted in a shard of 60 lines, 60 of them scored")
            }
            try mallory.goodbye()
            try eve.goodbye()
            try c.startWorker("honest")
            let finished = try c.waitForJob(job, timeout: 60)
            assertCompleteHistory(finished, iterations: 2)
            assertEveryArmCountsAllLinesOnce(finished["history"] as? [[String: Any]] ?? [])
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// Item 4: heartbeats listing a hung task do not extend its lease: it is requeued at the lease timeout (and
    /// not handed back to the hung worker), and the hung attempt's late result is rejected.
    func testHungTaskIsRequeuedAtTheLeaseTimeoutDespiteHeartbeats() throws {
        let c = try TestCluster(name: "hung", leaseTimeoutMs: 1500)
        cluster = c
        try c.startCoordinator()
        let job = try c.submit(try c.writeJob(iterations: 1, shards: 1, minMs: 10))
        let hung = try FakeWorker("hung", endpoint: c.endpoint)
        try hung.register()
        do {
            let task = try hung.nextAssignment()
            // Still "running" it: every heartbeat lists it.
            try hung.waitUntil("the lease expires", timeout: 20) {
                c.coordinator!.log.contains("1 task leases expired; requeued")
            }
            try hung.report(task.taskID, attempt: task.attempt, tp: 40, tn: 80)
            try hung.waitUntil("the late result rejected") {
                c.coordinator!.log.contains("result for \(task.taskID) (attempt 1) from worker hung rejected: the task is not leased")
            }
            try c.startWorker("honest")
            let finished = try c.waitForJob(job, timeout: 60)
            assertCompleteHistory(finished, iterations: 1)
            let arm = (finished["history"] as? [[String: Any]] ?? []).first ?? [:]
            XCTAssertEqual(arm["workers"] as? [String], ["honest"], "the retry went to another worker")
            XCTAssertEqual(arm["attempts"] as? Int, 2)
            assertEveryArmCountsAllLinesOnce(finished["history"] as? [[String: Any]] ?? [])
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// `job-1/arm-1/shard-0` → `job-1/arm-1/shard-1` and back (the job has two shards per arm).
    private static func otherShard(of taskID: String) -> String {
        taskID.hasSuffix("shard-0") ? String(taskID.dropLast()) + "1" : String(taskID.dropLast()) + "0"
    }

    private func assertEveryArmCountsAllLinesOnce(_ history: [[String: Any]], file: StaticString = #filePath, line: UInt = #line) {
        for arm in history {
            let counts = arm["counts"] as? [String: Int] ?? [:]
            XCTAssertEqual(counts.values.reduce(0, +), 120, "every arm counts the 120 validation lines once: \(arm)",
                           file: file, line: line)
        }
    }
}
