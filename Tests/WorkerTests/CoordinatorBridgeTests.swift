import Cluster
import Foundation
import Runtime
import XCTest
@testable import Worker

/// The queue between a training thread and the daemon thread: wake-ups, reply tickets, timeouts, coalescing.
final class CoordinatorBridgeTests: XCTestCase {
    func testRequestWakesTheDaemonAndItsReplyReachesTheWaitingThread() throws {
        let wake = try WakePipe()
        let bridge = CoordinatorBridge(wake: wake)
        let answer = Guarded<BridgeTicket.Outcome?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var request = Uniguard_V1_KeyValueRequest()
            request.key = "job-1/gen-1/rank_0"
            answer.value = bridge.request(.keyValueRequest(request), jobID: "job-1").wait(timeout: .seconds(10))
            done.signal()
        }
        // The daemon side: woken through the pipe, takes the request, answers it.
        var polled = pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(poll(&polled, 1, 5000), 1, "the request must wake the daemon's poll")
        var outgoing: [CoordinatorBridge.Outgoing] = []
        try waitUntil("the request queued", timeout: 5) { outgoing = bridge.takeOutgoing(); return !outgoing.isEmpty }
        XCTAssertEqual(outgoing.count, 1)
        XCTAssertEqual(outgoing[0].jobID, "job-1")
        var reply = Uniguard_V1_KeyValueReply()
        reply.key = "job-1/gen-1/rank_0"
        reply.found = true
        reply.value = Data([1, 2, 3])
        outgoing[0].ticket?.fulfil(.reply(WireMessage(.keyValueReply(reply), messageId: 9, replyTo: 1)))
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        guard case .reply(let message)?? = answer.value, case .keyValueReply(let got)? = message.payload else {
            return XCTFail("expected the reply, got \(String(describing: answer.value))")
        }
        XCTAssertEqual(got.value, Data([1, 2, 3]))
    }

    func testUnansweredTicketTimesOutAndIsDroppedFromTheQueue() throws {
        let bridge = CoordinatorBridge(wake: try WakePipe())
        let ticket = bridge.request(.keyValueRequest(Uniguard_V1_KeyValueRequest()), jobID: "job-1")
        XCTAssertNil(ticket.wait(timeout: .milliseconds(50)))
        XCTAssertTrue(ticket.isSettled, "a requester that gave up leaves nothing to answer")
        XCTAssertTrue(bridge.takeOutgoing().isEmpty, "a request given up before it was sent is not sent")
        ticket.fulfil(.failed("late"))  // a late outcome is harmless
    }

    func testProgressCoalescesPerKey() throws {
        let bridge = CoordinatorBridge(wake: try WakePipe())
        for step in 1...5 {
            var progress = Uniguard_V1_TrainProgress()
            progress.taskID = "job-1/gen-1/rank-0"
            progress.step = UInt64(step)
            bridge.post(.trainProgress(progress), jobID: "job-1", coalesceKey: "progress job-1/gen-1/rank-0")
        }
        var ready = Uniguard_V1_CheckpointReady()
        ready.step = 5
        bridge.post(.checkpointReady(ready), jobID: "job-1")
        let outgoing = bridge.takeOutgoing()
        XCTAssertEqual(outgoing.count, 2, "five unsent progress reports collapse into the newest")
        guard case .trainProgress(let p)? = Optional(outgoing[0].payload) else { return XCTFail("\(outgoing[0].payload)") }
        XCTAssertEqual(p.step, 5)
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(_ what: String, timeout: TimeInterval, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.01)
    }
    XCTFail("timed out waiting for \(what)")
}
