@testable import Cluster
@testable import Coordinator
import Foundation
import XCTest

/// The rules that keep a registered worker from steering a job: results only from the lease holder's current
/// attempt, lease deadlines that heartbeats cannot move, failures counted per distinct worker with quarantine, and
/// worker ids bound to their connection and CURVE key.
final class LeaseTrustTests: XCTestCase {
    private let id = TaskLease.id(job: "job-1", arm: 1, shard: 0)

    private func table() -> LeaseTable {
        var table = LeaseTable()
        table.insert(TaskLease(taskID: id, jobID: "job-1", armID: 1, shard: 0))
        table.insert(TaskLease(taskID: TaskLease.id(job: "job-1", arm: 1, shard: 1), jobID: "job-1", armID: 1, shard: 1))
        return table
    }

    func testResultCountsOnlyFromTheHolderForTheCurrentAttempt() {
        var table = table()
        let queued = TaskLease.id(job: "job-1", arm: 1, shard: 1)
        XCTAssertEqual(table.complete(queued, worker: "w1", attempt: 0), .rejected(.notLeased), "nobody was given a queued task")
        table.lease(id, to: "w1", nowUnixMs: 0, timeoutMs: 100)
        XCTAssertEqual(table.complete(id, worker: "intruder", attempt: 1), .rejected(.notHolder(holder: "w1")))
        XCTAssertEqual(table.complete(id, worker: "w1", attempt: 2), .rejected(.staleAttempt(current: 1)))
        // The lease expires and goes to w2: w1's late result for attempt 1 no longer counts.
        XCTAssertEqual(table.expire(nowUnixMs: 100).count, 1)
        table.lease(id, to: "w2", nowUnixMs: 100, timeoutMs: 100)
        XCTAssertEqual(table.complete(id, worker: "w1", attempt: 1), .rejected(.notHolder(holder: "w2")))
        guard case .accepted = table.complete(id, worker: "w2", attempt: 2) else { return XCTFail("the holder's result counts") }
        XCTAssertEqual(table.complete(id, worker: "w2", attempt: 2), .duplicate, "the holder's replay is acknowledged, not counted")
        XCTAssertEqual(table.complete(id, worker: "w1", attempt: 1), .rejected(.alreadyDone), "another's replay is rejected")
        XCTAssertEqual(table.task(id)?.state, .done)
    }

    func testStaleAttemptOfTheSameWorkerIsRejected() {
        var table = table()
        table.lease(id, to: "w1", nowUnixMs: 0, timeoutMs: 100)
        table.requeue(id)
        table.lease(id, to: "w1", nowUnixMs: 50, timeoutMs: 100)
        XCTAssertEqual(table.complete(id, worker: "w1", attempt: 1), .rejected(.staleAttempt(current: 2)))
    }

    func testConfirmingAHeldTaskNeverMovesItsDeadlinePastTheGrant() {
        var table = table()
        table.lease(id, to: "w1", nowUnixMs: 1000, timeoutMs: 500)
        // Heartbeats listing the task, late in the lease: the deadline stays at grant + timeout.
        table.confirm(id, worker: "w1", timeoutMs: 500)
        XCTAssertEqual(table.task(id)?.deadlineUnixMs, 1500)
        XCTAssertTrue(table.expire(nowUnixMs: 1499).isEmpty)
        XCTAssertEqual(table.expire(nowUnixMs: 1500).map(\.taskID), [id], "a hung task is requeued at the lease timeout")
    }

    func testExpiringNamesTheHoldersBeforeTheyAreRequeued() {
        var table = table()
        table.lease(id, to: "w1", nowUnixMs: 0, timeoutMs: 100)
        XCTAssertTrue(table.expiring(nowUnixMs: 99).isEmpty)
        XCTAssertEqual(table.expiring(nowUnixMs: 100).map(\.workerID), ["w1"], "the holder is charged with the expiry")
        XCTAssertEqual(table.expire(nowUnixMs: 100).map(\.workerID), [nil])
    }

    func testConfirmRestoresTheGrantDeadlineAfterARestartShortenedIt() {
        var table = LeaseTable()
        table.insert(TaskLease(taskID: id, jobID: "job-1", armID: 1, shard: 0, state: .leased, workerID: "w1", attempt: 1,
                               deadlineUnixMs: 1200, leasedAtUnixMs: 1000))
        table.confirm(id, worker: "intruder", timeoutMs: 5000)
        XCTAssertEqual(table.task(id)?.deadlineUnixMs, 1200, "only the holder confirms")
        table.confirm(id, worker: "w1", timeoutMs: 5000)
        XCTAssertEqual(table.task(id)?.deadlineUnixMs, 6000)
    }

    func testOneBrokenWorkerIsQuarantinedAndNeverFailsTheJobAlone() {
        var ledger = FailureLedger()
        ledger.quarantineMs = 1000
        for (i, task) in ["t1", "t2", "t3"].enumerated() {
            let outcome = ledger.recordFailure(task: task, worker: "broken", nowUnixMs: 0)
            XCTAssertFalse(outcome.failsJob)
            XCTAssertEqual(outcome.quarantinedWorker, i == 2, "quarantined at the third failure in a row")
        }
        XCTAssertTrue(ledger.isQuarantined("broken", nowUnixMs: 999))
        XCTAssertFalse(ledger.mayRun("t9", on: "broken", nowUnixMs: 500))
        XCTAssertFalse(ledger.isQuarantined("broken", nowUnixMs: 1000), "quarantine ends")
        XCTAssertFalse(ledger.mayRun("t1", on: "broken", nowUnixMs: 2000), "a task is not retried where it failed")
        XCTAssertTrue(ledger.mayRun("t1", on: "healthy", nowUnixMs: 0))
        // The same worker failing the same task again still counts as one worker.
        XCTAssertFalse(ledger.recordFailure(task: "t1", worker: "broken", nowUnixMs: 2000).failsJob)
        XCTAssertFalse(ledger.recordFailure(task: "t1", worker: "w2", nowUnixMs: 2000).failsJob)
        let third = ledger.recordFailure(task: "t1", worker: "w3", nowUnixMs: 2000)
        XCTAssertTrue(third.failsJob, "three distinct workers failed it: the task is broken")
        XCTAssertEqual(third.workers, ["broken", "w2", "w3"])
    }

    func testSuccessEndsARunOfFailures() {
        var ledger = FailureLedger()
        _ = ledger.recordFailure(task: "t1", worker: "w", nowUnixMs: 0)
        _ = ledger.recordFailure(task: "t2", worker: "w", nowUnixMs: 0)
        ledger.recordSuccess(worker: "w")
        XCTAssertFalse(ledger.recordFailure(task: "t3", worker: "w", nowUnixMs: 0).quarantinedWorker)
        ledger.forgetTasks { $0 == "t1" }
        XCTAssertTrue(ledger.mayRun("t1", on: "w", nowUnixMs: 0))
    }

    func testWorkerIdIsBoundToItsLiveConnectionAndFirstKey() throws {
        let settings = HeartbeatSettings(interval: .milliseconds(100), liveness: 3)
        var members = Membership(settings: settings)
        var identity = WorkerIdentity()
        let a = Data("a".utf8)
        XCTAssertTrue(try identity.admit(id: "a", routingID: a, key: "KEY-A", members: members), "first key binds the id")
        members.join(WorkerMember(id: "a", routingID: a, hostname: "h", slots: 1,
                                  heartbeat: Heartbeat(settings: settings, now: .now), nowUnixMs: 0))
        XCTAssertFalse(try identity.admit(id: "a", routingID: a, key: "KEY-A", members: members), "re-registration")
        XCTAssertThrowsError(try identity.admit(id: "a", routingID: Data("other".utf8), key: "KEY-A", members: members)) {
            XCTAssertEqual($0 as? WorkerIdentity.Refusal, .liveElsewhere(id: "a"))
        }
        XCTAssertThrowsError(try identity.admit(id: "a", routingID: a, key: "KEY-B", members: members)) {
            XCTAssertEqual($0 as? WorkerIdentity.Refusal, .boundToOtherKey(id: "a"))
        }
        XCTAssertTrue(identity.matches(id: "a", key: "KEY-A"))
        XCTAssertFalse(identity.matches(id: "a", key: "KEY-B"))
        // Once the live connection is gone the id may come back on a new one, with its own key only.
        members.leave("a")
        XCTAssertFalse(try identity.admit(id: "a", routingID: Data("new".utf8), key: "KEY-A", members: members))
        XCTAssertThrowsError(try identity.admit(id: "a", routingID: Data("new".utf8), key: "KEY-B", members: members))
        // Without CURVE there is no key to bind.
        XCTAssertFalse(try identity.admit(id: "b", routingID: Data("b".utf8), key: nil, members: members))
        XCTAssertTrue(identity.matches(id: "b", key: nil))
    }
}
