@testable import Cluster
import Foundation
import XCTest

final class WireCodecTests: XCTestCase {
    let codec = WireCodec()

    func testEveryPayloadRoundTrips() throws {
        for message in WireSamples.all() {
            let frames = try codec.encode(message)
            XCTAssertEqual(frames.count, 1 + message.rawFrames.count)
            let decoded = try codec.decode(frames)
            var expected = message
            expected.envelope.rawFrameCount = UInt32(message.rawFrames.count)
            XCTAssertEqual(decoded, expected)
        }
    }

    func testRoutedRoundTrip() throws {
        let message = WireSamples.all()[2]
        let frames = try codec.encode(message, to: Data("worker-1".utf8))
        let routed = try codec.decodeRouted(frames)
        XCTAssertEqual(routed.peer, Data("worker-1".utf8))
        XCTAssertEqual(routed.message.envelope.messageID, 3)
    }

    func testRejectsEmptyInput() {
        XCTAssertThrowsError(try codec.decode([])) { XCTAssertEqual($0 as? WireError, .noFrames) }
        XCTAssertThrowsError(try codec.decode([Data()])) { XCTAssertEqual($0 as? WireError, .emptyEnvelope) }
        XCTAssertThrowsError(try codec.decodeRouted([Data(), Data([1])])) {
            XCTAssertEqual($0 as? WireError, .invalidRoutingId(size: 0))
        }
    }

    func testRejectsWrongVersion() throws {
        var envelope = WireSamples.all()[2].envelope
        for version: UInt32 in [0, 2, 99] {
            envelope.version = version
            let bytes = try envelope.serializedData()
            XCTAssertThrowsError(try codec.decode([bytes])) { error in
                XCTAssertEqual(error as? WireError, .unsupportedVersion(received: version, supported: 1))
                XCTAssertEqual((error as? WireError)?.errorCode, .unsupportedVersion)
            }
        }
    }

    func testRejectsMissingPayload() throws {
        var envelope = WireEnvelope()
        envelope.version = 1
        envelope.messageID = 5
        XCTAssertThrowsError(try codec.decode([try envelope.serializedData()])) {
            XCTAssertEqual($0 as? WireError, .missingPayload)
        }
    }

    func testRejectsOversizedFrames() throws {
        let small = WireCodec(limits: WireLimits(maxFrameBytes: 64, maxEnvelopeBytes: 64, maxRawFrames: 2))
        let big = WireMessage(.statusReply(.with { $0.json = String(repeating: "x", count: 200) }), messageId: 1)
        XCTAssertThrowsError(try small.encode(big)) {
            guard case .frameTooLarge(index: 0, _, limit: 64)? = $0 as? WireError else {
                return XCTFail("unexpected \($0)")
            }
        }
        let frames = try codec.encode(big)
        XCTAssertThrowsError(try small.decode(frames)) {
            XCTAssertEqual(($0 as? WireError)?.errorCode, .frameTooLarge)
        }
        var chunk = WireSamples.all()[7]
        chunk.rawFrames = [Data(count: 100)]
        chunk.envelope.blobChunk.length = 100
        chunk.envelope.blobChunk.totalSize = 200
        XCTAssertThrowsError(try small.decode(try codec.encode(chunk))) {
            guard case .frameTooLarge(index: 1, size: 100, limit: 64)? = $0 as? WireError else {
                return XCTFail("unexpected \($0)")
            }
        }
        XCTAssertThrowsError(try small.decode([frames[0], Data(), Data(), Data()])) {
            XCTAssertEqual($0 as? WireError, .tooManyFrames(count: 4, limit: 3))
        }
    }

    func testRejectsRawFrameCountMismatch() throws {
        let frames = try codec.encode(WireSamples.all()[7])
        XCTAssertThrowsError(try codec.decode([frames[0]])) {
            XCTAssertEqual($0 as? WireError, .rawFrameCountMismatch(declared: 1, received: 0))
        }
        XCTAssertThrowsError(try codec.decode(frames + [Data([1])])) {
            XCTAssertEqual($0 as? WireError, .rawFrameCountMismatch(declared: 1, received: 2))
        }
    }

    func testPayloadRules() throws {
        var chunk = WireSamples.all()[7]
        chunk.envelope.blobChunk.length = 15  // frame has 16 bytes
        XCTAssertThrowsError(try codec.decode(try codec.encode(chunk))) { assertInvalidPayload($0) }
        chunk.envelope.blobChunk.length = 16
        chunk.envelope.blobChunk.offset = UInt64.max - 3  // offset + length overflows
        XCTAssertThrowsError(try codec.decode(try codec.encode(chunk))) { assertInvalidPayload($0) }

        var register = WireSamples.all()[0]
        register.envelope.registerWorker.slots = 0
        XCTAssertThrowsError(try codec.decode(try codec.encode(register))) { assertInvalidPayload($0) }

        var heartbeat = WireSamples.all()[2]
        heartbeat.rawFrames = [Data([1, 2, 3])]
        XCTAssertThrowsError(try codec.decode(try codec.encode(heartbeat))) { assertInvalidPayload($0) }

        var task = WireSamples.all()[3]
        task.envelope.taskAssignment.kind = nil
        XCTAssertThrowsError(try codec.decode(try codec.encode(task))) { assertInvalidPayload($0) }
    }

    func testRejectsInvalidUTF8InStrings() throws {
        // Field 3 (job_id, length-delimited) holding bytes that are not UTF-8.
        var bytes = try WireSamples.all()[2].envelope.serializedData()
        bytes.append(contentsOf: [0x1A, 0x02, 0xC3, 0x28])
        XCTAssertThrowsError(try codec.decode([bytes])) {
            guard case .malformedEnvelope? = $0 as? WireError else { return XCTFail("unexpected \($0)") }
        }
    }

    func testErrorReplyCarriesCodeAndReason() throws {
        let error = WireError.unsupportedVersion(received: 7, supported: 1)
        let reply = WireMessage.error(error.errorCode, error.description, messageId: 1, replyTo: 42)
        let decoded = try codec.decode(try codec.encode(reply))
        XCTAssertEqual(decoded.envelope.replyTo, 42)
        XCTAssertEqual(decoded.envelope.error.code, .unsupportedVersion)
        XCTAssertTrue(decoded.envelope.error.message.contains("unsupported protocol version 7"))
    }

    private func assertInvalidPayload(_ error: Error, file: StaticString = #filePath, line: UInt = #line) {
        guard case .invalidPayload? = error as? WireError else {
            return XCTFail("expected invalidPayload, got \(error)", file: file, line: line)
        }
    }
}
