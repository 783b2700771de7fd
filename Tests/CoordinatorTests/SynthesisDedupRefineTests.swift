@testable import Cluster
@testable import Coordinator
import Foundation
import GuardData
import TestHelpers
import XCTest

/// The coordinator's parts for near-duplicate filtering and `refine_policy` in synthesize jobs: what the store keeps
/// (near-duplicate counts, disagreements, suggestions), what a worker's disagreements and suggestion must be to count,
/// the suggestion file that never replaces anything, and done tasks leaving the lease table.
final class SynthesisDedupRefineTests: XCTestCase {
    private let spec = SynthesisJobSpec(name: "s", policies: ["safety"], policyPack: nil, count: 4, endpoint: "http://h/v1", model: "m",
                                        apiKeyEnv: nil, temperature: 0.9, seed: 0, concurrency: 1, batch: 4, reflection: "relabel",
                                        maxTokens: nil, requestTimeoutSeconds: 10, maxRetries: 1, output: nil, maxFruitlessBatches: 20,
                                        nearDuplicates: NearDuplicateSettings(threshold: 0.95, window: 2, embedModel: "/m"), refinePolicy: true)
    private let policyYAML = try! String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("policies/safety.yaml").path, encoding: .utf8)

    private func sample(_ prompt: String, _ label: SafetyLabel = .unsafe) -> Sample {
        Sample(policy: "safety", prompt: prompt, rationale: "r", label: label, source: "synth:m#safety/unsafe/0")
    }

    private func disagreement(_ prompt: String, intended: SafetyLabel = .unsafe, judged: SafetyLabel = .safe) -> Uniguard_V1_SynthDisagreement {
        JobDisagreement(policy: "safety", prompt: prompt, intended: intended, judged: judged, reason: "why").wire
    }

    func testStoreKeepsNearDuplicateCountsDisagreementsAndRefinements() throws {
        let store = try JobStore(path: StoreTestSupport.path())
        let prepared = PreparedSynthesis(spec: spec, policies: [.init(id: "safety", yaml: policyYAML)])
        let (id, seq) = try store.nextJobID()
        try store.transaction {
            try store.insertSynthesisJob(StoredSynthesisJob(id: id, specYAML: "kind: synthesize", prepared: prepared, state: .running,
                                                            submitter: "t", createdMs: 1), seq: seq)
            for b in 1...2 {
                try store.insertSynthesisBatch(job: id, StoredSynthesisBatch(batch: b, policy: "safety", label: "unsafe", sequence: b - 1,
                                                                            count: 4, state: "issued"), issuedMs: 5)
                let ds = (0..<3).map { JobDisagreement(policy: "safety", prompt: "b\(b) d\($0)", intended: .unsafe, judged: .safe, reason: "r") }
                try store.commitSynthesisBatch(job: id, batch: b, outcome: SynthesisBatchOutcome(commitSeq: b, worker: "w", generated: 4, nearDuplicates: b),
                                               lines: [], disagreements: ds, completedMs: 9)
            }
        }
        XCTAssertEqual(try store.loadSynthesisBatches(job: id).map { $0.outcome?.nearDuplicates }, [1, 2])
        XCTAssertEqual(try store.synthesisDisagreementCounts(job: id), ["safety": 6])
        // The most recent, oldest first.
        XCTAssertEqual(try store.recentSynthesisDisagreements(job: id, policy: "safety", limit: 4).map(\.prompt), ["b1 d2", "b2 d0", "b2 d1", "b2 d2"])
        XCTAssertEqual(try store.recentSynthesisDisagreements(job: id, policy: "other", limit: 4), [])
        try store.transaction {
            try store.insertSynthesisRefinement(job: id, StoredRefinement(policy: "safety", state: "pending", disagreements: 6))
            try store.insertSynthesisRefinement(job: id, StoredRefinement(policy: "pii", state: "skipped", message: "none", disagreements: 0))
        }
        var r = try XCTUnwrap(try store.loadSynthesisRefinements(job: id).first)
        r.state = "written"; r.path = "/o.safety.suggested"; r.requests = 2
        try store.transaction { try store.updateSynthesisRefinement(job: id, r, completedMs: 10) }
        try store.transaction { try store.cancelSynthesisRefinements(job: id) }
        let loaded = try store.loadSynthesisRefinements(job: id)
        XCTAssertEqual(loaded.map(\.state), ["written", "skipped"], "only pending ones are cancelled")
        XCTAssertEqual(loaded.first?.path, "/o.safety.suggested")
        XCTAssertEqual(loaded.first?.requests, 2)
    }

    func testRuntimeRebuildsTheWindowFromEachGroupsLastAcceptedSamples() throws {
        let stored = StoredSynthesisJob(id: "job-1", specYAML: "", prepared: PreparedSynthesis(spec: spec, policies: [.init(id: "safety", yaml: policyYAML)]),
                                        state: .running, submitter: "t", createdMs: 1)
        let runtime = SynthesisRuntime(stored, outputPath: TestSupport.tempDir().appendingPathComponent("o.jsonl").path)
        let lines = ["a", "b", "c"].map { ("safety", "unsafe", SampleCodec.encode(sample($0))) }
            + [("safety", "safe", SampleCodec.encode(sample("s", .safe)))]
        // Window 2: the last two unsafe and the one safe sample, in output order, each with its group.
        XCTAssertEqual(runtime.windowSamples(lines).map(\.sample.prompt), ["b", "c", "s"])
        XCTAssertEqual(runtime.windowSamples(lines).map(\.group), [1, 1, 0])
        // Exact candidates skip accepted prompts and repeats within the batch.
        _ = runtime.exact.insert(policy: "safety", label: .unsafe, prompt: "a")
        XCTAssertEqual(runtime.exactCandidates([sample("a"), sample("x"), sample("X "), sample("y")]), [1, 3])
        XCTAssertEqual(SynthesisRuntime.refineTaskID(job: "job-1", policyIndex: 0), "job-1/refine-1")
        XCTAssertEqual(runtime.refinePolicy(armID: SynthesisRuntime.refineArmID(policyIndex: 0))?.id, "safety")
        XCTAssertNil(runtime.refinePolicy(armID: -2))
    }

    func testDisagreementsMustMatchTheBatch() throws {
        let prepared = PreparedSynthesis(spec: spec, policies: [.init(id: "safety", yaml: policyYAML)])
        let batch = SynthesisRuntime.Batch(number: 1, policy: "safety", label: .unsafe, sequence: 0, count: 4)
        let source = prepared.source(policy: "safety", label: .unsafe, sequence: 0)
        func frame(_ samples: [Sample]) -> [Data] { [Data(samples.map { SampleCodec.encode($0) + "\n" }.joined().utf8)] }
        let kept = Sample(policy: "safety", prompt: "kept", rationale: "r", label: .unsafe, source: source)
        let flipped = Sample(policy: "safety", prompt: "flipped", rationale: "judge", label: .safe, source: source)
        var r = Uniguard_V1_SynthBatchResult()
        r.accepted = 2; r.generated = 2; r.relabelled = 1
        r.disagreements = [disagreement("flipped")]
        let checked = try SynthesisResultCheck.check(r, raw: frame([kept, flipped]), batch: batch, prepared: prepared, taskID: "t")
        XCTAssertEqual(checked.disagreements.map(\.prompt), ["flipped"])
        // None is allowed (they only feed refine_policy); a wrong count, a prompt that was not relabelled, a label that
        // does not fit the batch, or an oversized prompt are not.
        r.disagreements = []
        XCTAssertEqual(try SynthesisResultCheck.check(r, raw: frame([kept, flipped]), batch: batch, prepared: prepared, taskID: "t").disagreements, [])
        for bad in [[disagreement("flipped"), disagreement("kept")], [disagreement("kept")], [disagreement("flipped", intended: .safe, judged: .unsafe)],
                    [disagreement(String(repeating: "x", count: 40_000))]] {
            r.disagreements = bad
            XCTAssertThrowsError(try SynthesisResultCheck.check(r, raw: frame([kept, flipped]), batch: batch, prepared: prepared, taskID: "t")) {
                XCTAssertEqual(($0 as? JobSpecError)?.key, "disagreements")
            }
        }
    }

    func testSuggestionMustBeTheSamePolicyAndIsWrittenWithoutReplacingAnything() throws {
        var r = Uniguard_V1_SynthRefineResult()
        r.critique = "too vague"
        r.revisedPolicyYaml = policyYAML
        XCTAssertEqual(try SynthesisResultCheck.suggestion(r, policyID: "safety", taskID: "t").yaml, policyYAML)
        XCTAssertThrowsError(try SynthesisResultCheck.suggestion(r, policyID: "pii", taskID: "t"))
        r.revisedPolicyYaml = "id: [broken"
        XCTAssertThrowsError(try SynthesisResultCheck.suggestion(r, policyID: "safety", taskID: "t"))
        r.revisedPolicyYaml = policyYAML
        r.critique = "  "
        XCTAssertThrowsError(try SynthesisResultCheck.suggestion(r, policyID: "safety", taskID: "t"))

        let output = TestSupport.tempDir().appendingPathComponent("samples.jsonl").path
        try "kept\n".write(toFile: output + ".safety.suggested", atomically: true, encoding: .utf8)
        let text = SuggestionFile.text(policy: "safety", model: "m", jobID: "job-1", disagreements: 3, shown: 3, critique: "a\nb", yaml: policyYAML)
        XCTAssertTrue(text.hasPrefix("# Suggested revision of policy safety by m (coordinator job job-1, refine_policy),\n"))
        XCTAssertTrue(text.contains("# Critique: a\n# Critique: b\n"))
        XCTAssertEqual(try PolicyParser.parse(yaml: text, path: "s").id, "safety")
        let path = try SuggestionFile.writeNew(text, besideOutput: output, policy: "safety")
        XCTAssertEqual(path, output + ".safety.suggested-2")
        XCTAssertEqual(try String(contentsOfFile: output + ".safety.suggested", encoding: .utf8), "kept\n")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), text)
        // An id that is not a plain name cannot make a path elsewhere; no temporary file is left behind.
        XCTAssertEqual(try SuggestionFile.writeNew(text, besideOutput: output, policy: "../x"), output + ".___x.suggested")
        let names = try FileManager.default.contentsOfDirectory(atPath: (output as NSString).deletingLastPathComponent).sorted()
        XCTAssertEqual(names, ["samples.jsonl.___x.suggested", "samples.jsonl.safety.suggested", "samples.jsonl.safety.suggested-2"])
    }

    func testDoneTasksLeaveTheLeaseTable() {
        var table = LeaseTable()
        table.insert(TaskLease(taskID: "job-1/batch-1", jobID: "job-1", armID: 1, shard: 0))
        table.insert(TaskLease(taskID: "job-1/batch-2", jobID: "job-1", armID: 2, shard: 0))
        table.lease("job-1/batch-1", to: "w", nowUnixMs: 1, timeoutMs: 10)
        guard case .accepted = table.complete("job-1/batch-1", worker: "w", attempt: 1) else { return XCTFail("not accepted") }
        table.remove(task: "job-1/batch-1")
        XCTAssertNil(table.task("job-1/batch-1"))
        XCTAssertEqual(table.verdict("job-1/batch-1", worker: "w", attempt: 1), .unknown, "a late repeat counts for nothing")
        // A queued task given up on leaves the queue too.
        table.remove(task: "job-1/batch-2")
        XCTAssertEqual(table.queuedCount, 0)
        XCTAssertNil(table.nextQueued())
    }
}
