@testable import Cluster
@testable import Coordinator
import Foundation
import GuardData
import TestHelpers
import XCTest

/// A synthesize job's durable state: batches and sample lines round-trip through the store, and the output file is
/// made to hold exactly the committed lines whatever a crash left (a torn append, a batch committed but not written).
final class SynthesisStoreTests: XCTestCase {
    private func line(_ n: Int, label: SafetyLabel = .unsafe) -> String {
        SampleCodec.encode(Sample(policy: "safety", prompt: "prompt \(n)", rationale: "r", label: label, source: "synth:m#safety/\(label.rawValue)/0"))
    }

    func testOutputIsRebuiltFromTheCommittedLinesAfterATornOrMissingAppend() throws {
        let path = TestSupport.tempDir().appendingPathComponent("out/samples.jsonl").path
        let output = SynthesisOutput(path: path)
        try output.restore(lines: [])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "")
        try output.append(lines: [line(1), line(2)])
        try output.append(lines: [line(3)])
        let whole = [line(1), line(2), line(3)].map { $0 + "\n" }.joined()
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), whole)
        // A crash in the middle of the next append: half a line past the committed bytes.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"policy\":\"saf".utf8))
        try handle.close()
        let restarted = SynthesisOutput(path: path)
        try restarted.restore(lines: [line(1), line(2), line(3)])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), whole)
        // A batch committed to the store whose append never happened.
        try restarted.restore(lines: [line(1), line(2), line(3), line(4)])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), whole + line(4) + "\n")
        // An append after a torn write lands right after the committed bytes.
        let torn = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try torn.seekToEnd()
        try torn.write(contentsOf: Data("garbage".utf8))
        try torn.close()
        try restarted.append(lines: [line(5)])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), whole + line(4) + "\n" + line(5) + "\n")
    }

    func testBatchesAndSamplesRoundTripAndRestoreTheRuntime() throws {
        let path = StoreTestSupport.path()
        let store = try JobStore(path: path)
        let spec = SynthesisJobSpec(name: "s", policies: ["safety"], policyPack: nil, count: 2, endpoint: "http://h/v1", model: "m",
                                    apiKeyEnv: nil, temperature: 0.9, seed: 0, concurrency: 1, batch: 2, reflection: "relabel",
                                    maxTokens: nil, requestTimeoutSeconds: 10, maxRetries: 1, output: nil, maxFruitlessBatches: 20)
        let prepared = PreparedSynthesis(spec: spec, policies: [.init(id: "safety", yaml: "id: safety")])
        let (id, seq) = try store.nextJobID()
        let stored = StoredSynthesisJob(id: id, specYAML: "kind: synthesize", prepared: prepared, state: .running, submitter: "t", createdMs: 1)
        try store.transaction {
            try store.insertSynthesisJob(stored, seq: seq)
            for b in 1...2 {
                try store.insertSynthesisBatch(job: id, StoredSynthesisBatch(batch: b, policy: "safety", label: "unsafe", sequence: b - 1,
                                                                            count: 2, state: "issued"), issuedMs: 5)
            }
            try store.commitSynthesisBatch(job: id, batch: 1, outcome: SynthesisBatchOutcome(commitSeq: 1, worker: "w", generated: 2, duplicates: 1, requests: 2, promptTokens: 100, completionTokens: 50),
                                           lines: [("safety", "unsafe", line(1))], completedMs: 9)
        }
        XCTAssertEqual(try store.loadSynthesisJobs().map(\.prepared), [prepared])
        // Not a merge search: the merge-search loader leaves it alone.
        XCTAssertEqual(try store.loadJobs().count, 0)
        let batches = try store.loadSynthesisBatches(job: id)
        XCTAssertEqual(batches.map(\.state), ["done", "issued"])
        XCTAssertEqual(batches[0].outcome?.duplicates, 1)
        let runtime = SynthesisRuntime(stored, outputPath: TestSupport.tempDir().appendingPathComponent("o.jsonl").path)
        try runtime.restore(batches: batches, samples: try store.loadSynthesisSamples(job: id), writeOutput: true)
        XCTAssertEqual(runtime.accepted("safety", .unsafe), 1)
        XCTAssertEqual(runtime.inFlight.keys.sorted(), [2])
        XCTAssertEqual(runtime.requests, 2)
        XCTAssertTrue(runtime.exact.contains(policy: "safety", label: .unsafe, prompt: "prompt 1"))
        XCTAssertEqual(try String(contentsOfFile: runtime.output.path, encoding: .utf8), line(1) + "\n")
        // unsafe: 1 accepted + 2 in flight cover the count of 2; safe needs a batch, with the next sequence numbers.
        let next = try XCTUnwrap(runtime.planBatch())
        XCTAssertEqual([next.label], [.safe])
        XCTAssertEqual(next.number, 3)
        runtime.inFlight[next.number] = next
        XCTAssertNil(runtime.planBatch())
    }
}
