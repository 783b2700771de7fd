@testable import Cluster
import Foundation
import XCTest

/// Feeds random and mutated frames to the decoder: it must never trap, and garbage must be rejected.
final class WireFuzzTests: XCTestCase {
    let codec = WireCodec(limits: WireLimits(maxFrameBytes: 4096, maxEnvelopeBytes: 2048, maxRawFrames: 8))

    func testRandomFramesAreRejected() {
        var rng = WireSeededRNG(seed: 0x5EED_0001)
        var accepted = 0
        let iterations = 5000
        for _ in 0..<iterations {
            let frameCount = Int.random(in: 0...4, using: &rng)
            let frames = (0..<frameCount).map { _ in rng.bytes(Int.random(in: 0...300, using: &rng)) }
            if let message = try? codec.decode(frames) {
                accepted += 1
                assertInvariants(message)
            }
            _ = try? codec.decodeRouted(frames)
        }
        // A random byte string almost never forms a version-1 envelope with a valid payload.
        XCTAssertLessThan(accepted, iterations / 100, "random garbage accepted \(accepted) times")
    }

    func testMutatedMessagesNeverCrashAndStayConsistent() throws {
        var rng = WireSeededRNG(seed: 0x5EED_0002)
        let originals = try WireSamples.all().map { try codec.encode($0) }
        var rejected = 0
        let iterations = 6000
        for _ in 0..<iterations {
            var frames = originals.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...4, using: &rng) { mutate(&frames, &rng) }
            do {
                let message = try codec.decode(frames)
                assertInvariants(message)
                // Anything accepted must survive a re-encode/decode unchanged.
                XCTAssertEqual(try codec.decode(try codec.encode(message)), message)
            } catch {
                // decode and encode use typed throws: every failure here is a WireError with a reason.
                rejected += 1
                XCTAssertFalse("\(error)".isEmpty)
            }
        }
        XCTAssertGreaterThan(rejected, iterations / 4, "mutations should mostly be caught")
    }

    func testTruncatedEnvelopesAreRejected() throws {
        var cuts = 0, rejected = 0
        for message in WireSamples.all() {
            let frames = try codec.encode(message)
            let envelope = frames[0]
            for cut in 1..<envelope.count {
                cuts += 1
                let truncated = [envelope.prefix(cut)] + frames.dropFirst()
                guard let decoded = try? codec.decode(Array(truncated)) else { rejected += 1; continue }
                // A cut on a field boundary can still be a well-formed shorter envelope; it must never be
                // taken for the original message.
                assertInvariants(decoded)
                XCTAssertNotEqual(decoded.envelope, message.envelope, "a truncated envelope decoded as the original")
            }
        }
        // Cutting inside a field (almost every cut) must fail decoding or validation.
        XCTAssertGreaterThan(rejected, cuts * 9 / 10, "only \(rejected) of \(cuts) truncated envelopes were rejected")
    }

    private func assertInvariants(_ message: WireMessage) {
        XCTAssertEqual(message.envelope.version, WireCodec.protocolVersion)
        XCTAssertNotNil(message.envelope.payload)
        XCTAssertEqual(Int(message.envelope.rawFrameCount), message.rawFrames.count)
    }

    private func mutate(_ frames: inout [Data], _ rng: inout WireSeededRNG) {
        let index = Int.random(in: 0..<max(frames.count, 1), using: &rng)
        if frames.isEmpty { frames = [Data()] }
        var frame = frames[index]
        switch Int.random(in: 0..<9, using: &rng) {
        case 0 where !frame.isEmpty:  // flip a bit
            let at = frame.startIndex + Int.random(in: 0..<frame.count, using: &rng)
            frame[at] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
        case 1 where !frame.isEmpty:  // overwrite a byte
            frame[frame.startIndex + Int.random(in: 0..<frame.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
        case 2:  // truncate
            frame = frame.prefix(Int.random(in: 0...frame.count, using: &rng))
        case 3:  // insert random bytes
            let at = Int.random(in: 0...frame.count, using: &rng)
            frame = frame.prefix(at) + rng.bytes(Int.random(in: 1...8, using: &rng)) + frame.dropFirst(at)
        case 4:  // append garbage
            frame.append(rng.bytes(Int.random(in: 1...32, using: &rng)))
        case 5:  // drop a frame
            frames.remove(at: index)
            return
        case 6:  // duplicate a frame
            frames.insert(frame, at: index)
        case 7:  // add an oversized frame
            frames.append(Data(count: 5000))
            return
        default:  // replace with random bytes
            frame = rng.bytes(Int.random(in: 0...64, using: &rng))
        }
        frames[index] = Data(frame)
    }
}
