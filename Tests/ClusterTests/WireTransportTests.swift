import CZMQ
@testable import Cluster
import Foundation
@testable import Runtime
import TestHelpers
import XCTest

/// ROUTER <-> DEALER over real sockets (127.0.0.1 with an OS-chosen port, ipc, inproc); every wait is bounded.
final class WireTransportTests: XCTestCase {
    let codec = WireCodec()
    let timeoutMs = 5000

    func testRouterDealerRoundTripOverTCP() throws {
        try roundTrip(bindTo: "tcp://127.0.0.1:0")
    }

    func testRouterDealerRoundTripOverIPC() throws {
        guard ZMQContext.has("ipc") else { throw TestSupport.unavailable("libzmq built without ipc") }
        try roundTrip(bindTo: wireTestIPCEndpoint())
    }

    private func roundTrip(bindTo endpoint: String) throws {
        let context = try ZMQContext()
        let router = try context.socket(.router)
        try router.set(.routerMandatory(true), .sendHighWaterMark(100), .maxMessageSize(1 << 20))
        let bound = try router.bind(endpoint)
        XCTAssertFalse(bound.hasSuffix(":0"), "port 0 should resolve to a real port: \(bound)")

        let dealer = try context.socket(.dealer)
        try dealer.set(.routingId(Data("worker-1".utf8)), .reconnectInterval(milliseconds: 100),
                       .reconnectIntervalMax(milliseconds: 2000))
        try dealer.connect(bound)

        for message in WireSamples.all() {
            try dealer.send(try codec.encode(message))
            let frames = try XCTUnwrap(try router.receiveMultipart(timeoutMs: timeoutMs), "no message at router")
            let routed = try codec.decodeRouted(frames)
            XCTAssertEqual(routed.peer, Data("worker-1".utf8))
            XCTAssertEqual(routed.message.envelope.messageID, message.envelope.messageID)
            XCTAssertEqual(routed.message.payload, message.payload)
            XCTAssertEqual(routed.message.rawFrames, message.rawFrames)

            let reply = WireMessage(.heartbeat(.init()), messageId: 1000 + message.envelope.messageID,
                                    replyTo: message.envelope.messageID)
            try router.send(try codec.encode(reply, to: routed.peer))
            let back = try codec.decode(try XCTUnwrap(try dealer.receiveMultipart(timeoutMs: timeoutMs)))
            XCTAssertEqual(back.envelope.replyTo, message.envelope.messageID)
        }
        dealer.close()
        router.close()
    }

    func testLargeFramesTravelZeroCopy() throws {
        let context = try ZMQContext()
        let router = try context.socket(.router)
        let endpoint = try router.bind("tcp://127.0.0.1:0")
        let dealer = try context.socket(.dealer)
        try dealer.connect(endpoint)

        var rng = WireSeededRNG(seed: 7)
        let big = rng.bytes(3 << 20)  // above zeroCopyThreshold: sent and received without copies
        let released = Guarded(false)
        try sendWithBorrowedFrame(dealer, big: big, released: released)
        let frames = try XCTUnwrap(try router.receiveMultipart(timeoutMs: timeoutMs))
        XCTAssertEqual(frames.count, 4)
        XCTAssertEqual(frames[1], Data("header".utf8))
        XCTAssertEqual(frames[2], big)
        XCTAssertEqual(frames[3].count, 1 << 20)
        XCTAssertEqual(frames[3], Data(repeating: 0xAB, count: 1 << 20))
        // libzmq releases the borrowed buffer's owner on its I/O thread once sent.
        let deadline = Date().addingTimeInterval(5)
        while !released.value && Date() < deadline { usleep(10_000) }
        XCTAssertTrue(released.value, "zero-copy owner was not released")
    }

    /// Separate function so that the test holds no reference to the borrowed buffer's owner.
    private func sendWithBorrowedFrame(_ dealer: ZMQSocket, big: Data, released: Guarded<Bool>) throws {
        let owner = ReleaseProbe(released)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        buffer.initializeMemory(as: UInt8.self, repeating: 0xAB)
        owner.buffer = buffer
        try dealer.send(frames: [.data(Data("header".utf8)), .data(big),
                                 .borrowed(UnsafeRawBufferPointer(buffer), owner: owner)])
    }

    func testRouterMandatoryReportsUnknownPeer() throws {
        let context = try ZMQContext()
        let router = try context.socket(.router)
        try router.set(.routerMandatory(true))
        try router.bind("tcp://127.0.0.1:0")
        XCTAssertThrowsError(try router.send([Data("nobody".utf8), Data("x".utf8)])) {
            XCTAssertTrue(($0 as? ZMQError)?.isHostUnreachable ?? false, "\($0)")
        }
    }

    func testSendQueueIsBounded() throws {
        let context = try ZMQContext()
        let router = try context.socket(.router)
        try router.set(.receiveHighWaterMark(4))
        try router.bind("inproc://bounded")
        let dealer = try context.socket(.dealer)
        try dealer.set(.sendHighWaterMark(4))
        try dealer.connect("inproc://bounded")
        // The router never reads: after roughly SNDHWM + RCVHWM messages, a non-blocking send must refuse.
        var sent = 0
        var blocked = false
        while sent < 10_000 {
            do {
                try dealer.send([Data("m".utf8)], dontWait: true)
                sent += 1
            } catch let error as ZMQError where error.isWouldBlock {
                blocked = true
                break
            }
        }
        XCTAssertTrue(blocked, "queue never filled after \(sent) messages")
        XCTAssertLessThanOrEqual(sent, 64)
    }

    func testPollTimesOutWhenIdle() throws {
        let context = try ZMQContext()
        let router = try context.socket(.router)
        try router.bind("tcp://127.0.0.1:0")
        let start = ContinuousClock.now
        XCTAssertNil(try router.receiveMultipart(timeoutMs: 50))
        XCTAssertNil(try router.receiveMultipart(dontWait: true))
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))

        var poller = ZMQPoller()
        poller.add(router)
        XCTAssertEqual(try poller.poll(timeoutMs: 10), [[]])
    }

    func testOversizedFrameIsDroppedByTransport() throws {
        let context = try ZMQContext()
        let router = try context.socket(.router)
        try router.set(.maxMessageSize(1024))
        let endpoint = try router.bind("tcp://127.0.0.1:0")
        let dealer = try context.socket(.dealer)
        try dealer.connect(endpoint)
        try dealer.send([Data(count: 4096)])
        XCTAssertNil(try router.receiveMultipart(timeoutMs: 300), "oversized frame must not be delivered")
    }

    func testLiveRouterSurvivesGarbage() throws {
        let context = try ZMQContext()
        let router = try context.socket(.router)
        try router.set(.maxMessageSize(1 << 16))
        let endpoint = try router.bind("tcp://127.0.0.1:0")
        let dealer = try context.socket(.dealer)
        try dealer.connect(endpoint)

        var rng = WireSeededRNG(seed: 99)
        let valid = try codec.encode(WireSamples.all()[2])
        var rejected = 0
        for round in 0..<200 {
            var frames = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                rng.bytes(Int.random(in: 0...200, using: &rng))
            }
            if round % 2 == 0 { frames[0] = valid[0].prefix(Int.random(in: 0..<valid[0].count, using: &rng)) }
            try dealer.send(frames)
            let received = try XCTUnwrap(try router.receiveMultipart(timeoutMs: timeoutMs))
            do { _ = try codec.decodeRouted(received) } catch { rejected += 1 }
        }
        XCTAssertGreaterThan(rejected, 190)
        // The connection still carries valid traffic afterwards.
        try dealer.send(valid)
        let frames = try XCTUnwrap(try router.receiveMultipart(timeoutMs: timeoutMs))
        XCTAssertEqual(try codec.decodeRouted(frames).message.envelope.messageID, 3)
    }

    func testWireHelpersDecodeAndAnswerGarbage() throws {
        let context = try ZMQContext()
        let router = try context.socket(.router)
        try router.apply(WireLimits(maxFrameBytes: 1 << 20))
        let endpoint = try router.bind("tcp://127.0.0.1:0")
        let dealer = try context.socket(.dealer)
        try dealer.set(.routingId(Data("w7".utf8)))
        try dealer.connect(endpoint)

        try dealer.send(WireSamples.all()[7])  // a blob chunk with one raw frame
        let good = try XCTUnwrap(try router.receiveWire(timeoutMs: timeoutMs))
        XCTAssertEqual(good.peer, Data("w7".utf8))
        XCTAssertEqual(try good.result.get().rawFrames.count, 1)

        try dealer.send([Data("not protobuf at all".utf8)])
        let bad = try XCTUnwrap(try router.receiveWire(timeoutMs: timeoutMs))
        guard case .failure(let error) = bad.result else { return XCTFail("garbage was accepted") }
        // The peer is known even though decoding failed, so the coordinator can answer with an Error.
        let peer = try XCTUnwrap(bad.peer)
        try router.send(.error(error.errorCode, error.description, messageId: 1), to: peer)
        let reply = try XCTUnwrap(try dealer.receiveWire(timeoutMs: timeoutMs))
        XCTAssertNil(reply.peer)
        XCTAssertEqual(try reply.result.get().envelope.error.code, .malformed)
    }

    func testClosedSocketThrows() throws {
        let context = try ZMQContext()
        let socket = try context.socket(.dealer)
        socket.close()
        XCTAssertTrue(socket.isClosed)
        XCTAssertThrowsError(try socket.send([Data([1])])) {
            XCTAssertEqual(($0 as? ZMQError)?.code, ENOTSOCK)
        }
    }
}

/// Records when libzmq lets go of a zero-copy buffer.
private final class ReleaseProbe: @unchecked Sendable {
    let released: Guarded<Bool>
    var buffer: UnsafeMutableRawBufferPointer?
    init(_ released: Guarded<Bool>) { self.released = released }
    deinit {
        buffer?.deallocate()
        released.value = true
    }
}
