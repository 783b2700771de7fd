@testable import Cluster
import Foundation
@testable import Runtime
import XCTest

/// A live coordinator fed random, mutated, oversized, wrong-version and unknown-sender frames keeps serving:
/// it answers status and completes a job afterwards.
final class ClusterFuzzTests: XCTestCase {
    private var cluster: TestCluster?

    override func tearDown() {
        cluster?.shutdown()
        cluster = nil
    }

    func testLiveCoordinatorSurvivesGarbage() throws {
        let c = try TestCluster(name: "fuzz", limits: "[limits]\nmax_frame_bytes = 65536\nmax_envelope_bytes = 16384\nblob_chunk_bytes = 32768")
        cluster = c
        try c.startCoordinator()
        try c.startWorker("honest")
        try waitUntil("worker", timeout: 15) { try c.workerIDs() == ["honest"] }

        let context = try ZMQContext()
        var rng = SeededGenerator(seed: 2024)
        var repliesSeen = 0
        var errorCodes = Set<Int>()
        let samples = try validMessages()
        for round in 0..<600 {
            // A fresh connection now and then: libzmq drops peers that send oversized frames.
            let socket = try context.socket(.dealer)
            try socket.set(.routingId(Data("fuzzer-\(round % 7)".utf8)))
            try socket.connect(c.endpoint)
            for _ in 0..<5 {
                let frames = mutate(samples, &rng)
                try? socket.send(frames, dontWait: true)
            }
            while let reply = try socket.receiveMultipart(timeoutMs: round % 50 == 0 ? 200 : 0) {
                repliesSeen += 1
                if case .success(let message) = Result(catching: { try WireCodec().decode(reply) }),
                   case .error(let e)? = message.payload {
                    errorCodes.insert(e.code.rawValue)
                }
            }
            socket.close()
        }
        do {
            XCTAssertTrue(c.coordinator!.isRunning, "the coordinator is still up")
            XCTAssertGreaterThan(repliesSeen, 0, "bad frames get error replies where possible")
            XCTAssertTrue(errorCodes.contains(Uniguard_V1_ErrorCode.malformed.rawValue), "\(errorCodes)")
            XCTAssertTrue(errorCodes.contains(Uniguard_V1_ErrorCode.unknownSender.rawValue), "\(errorCodes)")
            XCTAssertTrue(errorCodes.contains(Uniguard_V1_ErrorCode.unsupportedVersion.rawValue), "\(errorCodes)")
            XCTAssertTrue(c.coordinator!.log.contains("rejected message"))
            // Still serving: status answers, the honest worker is still a member, and a job completes.
            XCTAssertEqual(try c.workerIDs(), ["honest"])
            let job = try c.submit(try c.writeJob(iterations: 4, shards: 2, minMs: 10))
            assertCompleteHistory(try c.waitForJob(job, timeout: 60), iterations: 4)
            XCTAssertTrue(c.coordinator!.isRunning)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// Well-formed envelopes to mutate: a status request, a heartbeat and a result from an unregistered
    /// sender, a submit with bad YAML, a blob request for an unknown hash.
    private func validMessages() throws -> [[Data]] {
        var status = Uniguard_V1_StatusRequest()
        status.jobID = ""
        var beat = Uniguard_V1_Heartbeat()
        beat.load = 1
        var result = Uniguard_V1_TaskResult()
        result.taskID = "job-1/arm-1/shard-0"
        result.eval = Uniguard_V1_EvalResult()
        var submit = Uniguard_V1_SubmitJob()
        submit.yaml = "kind: [unclosed"
        var blob = Uniguard_V1_BlobRequest()
        blob.contentHash = String(repeating: "ab", count: 32)
        blob.length = 10
        let codec = WireCodec()
        return try [
            codec.encode(WireMessage(.statusRequest(status), messageId: 1)),
            codec.encode(WireMessage(.heartbeat(beat), messageId: 2)),
            codec.encode(WireMessage(.taskResult(result), messageId: 3)),
            codec.encode(WireMessage(.submitJob(submit), messageId: 4)),
            codec.encode(WireMessage(.blobRequest(blob), messageId: 5)),
        ]
    }

    private func mutate(_ samples: [[Data]], _ rng: inout SeededGenerator) -> [Data] {
        var frames = samples[Int(rng.next() % UInt64(samples.count))]
        switch rng.next() % 8 {
        case 0:  // random bytes
            return [Data((0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })]
        case 1:  // flipped bytes
            var bytes = [UInt8](frames[0])
            for _ in 0..<(1 + Int(rng.next() % 4)) where !bytes.isEmpty {
                bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            }
            frames[0] = Data(bytes)
        case 2:  // truncated
            frames[0] = frames[0].prefix(Int(rng.next() % UInt64(max(frames[0].count, 1))))
        case 3:  // wrong version (field 1 = 7)
            frames[0] = Data([0x08, 0x07]) + frames[0].dropFirst(2)
        case 4:  // extra raw frames the envelope does not declare
            frames += [Data("junk".utf8), Data()]
        case 5:  // oversized frame: libzmq cuts the connection
            frames.append(Data(count: 70_000))
        case 6:  // empty frame
            frames = [Data()]
        default:  // valid: heartbeat/result from an unknown sender, status, bad submit
            break
        }
        return frames
    }
}
