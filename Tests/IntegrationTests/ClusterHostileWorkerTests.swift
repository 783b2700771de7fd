@testable import Cluster
import Foundation
import XCTest

/// A registered worker that reports impossible confusion counts (2^64-1, or more samples than its shard has
/// lines): the coordinator rejects the result as a failed attempt, stays up, and an honest worker finishes.
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
        let (context, socket, codec) = try registerHostile(c)
        defer {
            socket.close()
            withExtendedLifetime(context) {}
        }
        do {
            var wrapping = Uniguard_V1_ConfusionCounts()
            wrapping.tp = 1
            wrapping.fn = UInt64.max
            var tooMany = Uniguard_V1_ConfusionCounts()
            tooMany.tn = 1_000_000
            for (i, counts) in [wrapping, tooMany].enumerated() {
                let assignment = try nextAssignment(socket, codec)
                var result = Uniguard_V1_TaskResult()
                result.taskID = assignment.taskID
                result.attempt = assignment.attempt
                var eval = Uniguard_V1_EvalResult()
                eval.counts = counts
                result.eval = eval
                try socket.send(codec.encode(WireMessage(.taskResult(result), messageId: UInt64(10 + i))))
            }
            var goodbye = Uniguard_V1_Disconnect()
            goodbye.reason = "test over"
            try socket.send(codec.encode(WireMessage(.disconnect(goodbye), messageId: 99)))
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
            for arm in history {
                let counts = arm["counts"] as? [String: Int] ?? [:]
                XCTAssertEqual(counts.values.reduce(0, +), 120, "every arm counts the 120 validation lines once: \(arm)")
            }
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// An elapsed time beyond what the store can hold (2^64-1 ms) is rejected like impossible counts: before the
    /// store saw it, it would have failed the commit and stopped the coordinator.
    func testImpossibleElapsedTimeIsRejectedNotStored() throws {
        let c = try TestCluster(name: "hostile-elapsed")
        cluster = c
        try c.startCoordinator()
        let job = try c.submit(try c.writeJob(iterations: 1, shards: 1, minMs: 10))
        let (context, socket, codec) = try registerHostile(c)
        defer {
            socket.close()
            withExtendedLifetime(context) {}
        }
        do {
            let assignment = try nextAssignment(socket, codec)
            var result = Uniguard_V1_TaskResult()
            result.taskID = assignment.taskID
            result.attempt = assignment.attempt
            result.elapsedMs = .max
            var eval = Uniguard_V1_EvalResult()
            eval.counts.tp = 1
            result.eval = eval
            try socket.send(codec.encode(WireMessage(.taskResult(result), messageId: 10)))
            var goodbye = Uniguard_V1_Disconnect()
            goodbye.reason = "test over"
            try socket.send(codec.encode(WireMessage(.disconnect(goodbye), messageId: 99)))
            try waitUntil("result rejected", timeout: 15) { c.coordinator!.log.contains("ms is not a duration; result rejected") }
            try c.startWorker("honest")
            let finished = try c.waitForJob(job, timeout: 60)
            assertCompleteHistory(finished, iterations: 1)
            XCTAssertTrue(c.coordinator!.isRunning)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// A raw DEALER socket registered as worker `hostile` with one slot (the context must outlive the socket).
    private func registerHostile(_ c: TestCluster) throws -> (ZMQContext, ZMQSocket, WireCodec) {
        let context = try ZMQContext()
        let socket = try context.socket(.dealer)
        try socket.set(.routingId(Data("hostile".utf8)))
        try socket.connect(c.endpoint)
        let codec = WireCodec()
        var register = Uniguard_V1_RegisterWorker()
        register.workerID = "hostile"
        register.hostname = "nowhere"
        register.slots = 1
        try socket.send(codec.encode(WireMessage(.registerWorker(register), messageId: 1)))
        return (context, socket, codec)
    }

    /// Waits for the coordinator to hand this socket a task, heartbeating meanwhile (liveness is under a second).
    private func nextAssignment(_ socket: ZMQSocket, _ codec: WireCodec) throws -> Uniguard_V1_TaskAssignment {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            try socket.send(codec.encode(WireMessage(.heartbeat(Uniguard_V1_Heartbeat()), messageId: 2)))
            guard let frames = try socket.receiveMultipart(timeoutMs: 100) else { continue }
            if case .taskAssignment(let assignment)? = try codec.decode(frames).payload { return assignment }
        }
        throw TestFailure("no task assignment within 30 s")
    }
}
