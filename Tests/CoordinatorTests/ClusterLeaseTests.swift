@testable import Cluster
@testable import Coordinator
import Foundation
import XCTest

/// Lease and membership bookkeeping, and blob chunk planning: pure types with time passed in.
final class ClusterLeaseTests: XCTestCase {
    private func task(_ arm: Int, _ shard: Int = 0, job: String = "job-1") -> TaskLease {
        TaskLease(taskID: TaskLease.id(job: job, arm: arm, shard: shard), jobID: job, armID: arm, shard: shard)
    }

    func testLeaseCompleteAndDuplicate() throws {
        var table = LeaseTable()
        table.insert(task(1))
        let id = task(1).taskID
        let leased = try XCTUnwrap(table.lease(id, to: "w1", nowUnixMs: 1000, timeoutMs: 500))
        XCTAssertEqual(leased.attempt, 1)
        XCTAssertEqual(leased.deadlineUnixMs, 1500)
        XCTAssertNil(table.lease(id, to: "w2", nowUnixMs: 1000, timeoutMs: 500), "a leased task is not leased twice")
        guard case .accepted = table.complete(id, worker: "w1", attempt: 1) else { return XCTFail("first result is accepted") }
        XCTAssertEqual(table.complete(id, worker: "w1", attempt: 1), .duplicate)
        XCTAssertEqual(table.complete("nope", worker: "w1", attempt: 1), .unknown)
    }

    func testExpiryRequeuesAtTheFront() throws {
        var table = LeaseTable()
        for arm in 1...3 { table.insert(task(arm)) }
        table.lease(task(1).taskID, to: "w1", nowUnixMs: 0, timeoutMs: 100)
        XCTAssertEqual(table.nextQueued()?.armID, 2)
        XCTAssertTrue(table.expire(nowUnixMs: 99).isEmpty)
        let expired = table.expire(nowUnixMs: 100)
        XCTAssertEqual(expired.map(\.armID), [1])
        XCTAssertEqual(table.nextQueued()?.armID, 1, "expired work is the oldest: it goes first")
        let again = try XCTUnwrap(table.lease(task(1).taskID, to: "w2", nowUnixMs: 200, timeoutMs: 100))
        XCTAssertEqual(again.attempt, 2)
    }

    func testWorkerLossRequeuesOnlyItsLeases() {
        var table = LeaseTable()
        for arm in 1...4 { table.insert(task(arm)) }
        table.lease(task(1).taskID, to: "a", nowUnixMs: 0, timeoutMs: 1000)
        table.lease(task(2).taskID, to: "b", nowUnixMs: 0, timeoutMs: 1000)
        table.lease(task(3).taskID, to: "a", nowUnixMs: 0, timeoutMs: 1000)
        XCTAssertEqual(table.leasedCount(by: "a"), 2)
        XCTAssertEqual(Set(table.requeue(worker: "a").map(\.armID)), [1, 3])
        XCTAssertEqual(table.leasedCount(by: "a"), 0)
        XCTAssertEqual(table.leasedCount(by: "b"), 1)
        XCTAssertEqual(table.queuedCount, 3)
    }

    func testCancelReturnsLeasedAndEmptiesQueue() {
        var table = LeaseTable()
        for arm in 1...3 { table.insert(task(arm)) }
        table.insert(task(9, job: "job-2"))
        table.lease(task(1).taskID, to: "a", nowUnixMs: 0, timeoutMs: 1000)
        XCTAssertEqual(table.cancel(job: "job-1").map(\.armID), [1])
        XCTAssertEqual(table.queuedCount, 1)
        XCTAssertEqual(table.nextQueued()?.jobID, "job-2")
        XCTAssertEqual(table.complete(task(2).taskID, worker: "a", attempt: 0), .cancelled)
    }

    func testMembershipLivenessAndHeartbeats() {
        let settings = HeartbeatSettings(interval: .milliseconds(100), liveness: 3)
        let t0 = ContinuousClock.now
        var members = Membership(settings: settings)
        let member = WorkerMember(id: "w1", routingID: Data("w1".utf8), hostname: "h", slots: 2,
                                  heartbeat: Heartbeat(settings: settings, now: t0), nowUnixMs: 0)
        XCTAssertTrue(members.join(member))
        XCTAssertFalse(members.join(member), "re-registration is not a new member")
        XCTAssertEqual(members.member(routingID: Data("w1".utf8))?.id, "w1")
        var result = members.tick(at: t0 + .milliseconds(150))
        XCTAssertEqual(result.heartbeatDue, ["w1"])
        members.heard("w1", at: t0 + .milliseconds(200), unixMs: 200)
        result = members.tick(at: t0 + .milliseconds(450))
        XCTAssertTrue(result.dead.isEmpty)
        result = members.tick(at: t0 + .milliseconds(500))
        XCTAssertEqual(result.dead.map(\.id), ["w1"], "silent for 3 intervals: dead")
        XCTAssertNil(members.member("w1"))
    }
}
