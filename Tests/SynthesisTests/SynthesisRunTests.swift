import EncoderModel
import Foundation
import GuardData
import LLMStandIn
@testable import Synthesis
import TestHelpers
import XCTest

/// Whole runs against the stand-in: exact counts per policy and label, self-reflection, dedup, faults
/// never reaching the output, resume after a cut-short batch, refusal to mix settings, policy refinement.
final class SynthesisRunTests: XCTestCase {
    func makeRun(_ standIn: LLMStandIn, policies: [String] = ["tax_advice", "pii"], count: Int, out: String, seed: UInt64 = 1,
                 reflection: DisagreementAction? = .relabel, embedder: (any PromptEmbedding)? = nil, batch: Int = 4,
                 maxRetries: Int = 6) throws -> SynthesisRun {
        let client = makeClient(standIn, maxRetries: maxRetries, connections: 3)
        var options = SynthesisOptions(countPerLabel: count)
        options.batchSize = batch; options.concurrency = 3; options.seed = seed
        return try SynthesisRun(policies: try policies.map(SynthesisTestSupport.policy),
                                generator: BatchGenerator(client: client, settings: GenerationSettings(model: "stand-in", reflection: reflection)),
                                options: options, embedder: embedder, outputPath: out)
    }

    func testEachPolicyAndLabelGetsExactlyCountUniqueSamplesWithRationaleAndSource() async throws {
        let standIn = try await startStandIn()
        let out = TestSupport.tempDir().appendingPathComponent("synth.jsonl").path
        let run = try makeRun(standIn, count: 10, out: out)
        let report = try await run.run()
        await standIn.stop()
        let samples = try SynthesisTestSupport.samples(out)
        XCTAssertEqual(SynthesisTestSupport.counts(samples), ["tax_advice/safe": 10, "tax_advice/unsafe": 10, "pii/safe": 10, "pii/unsafe": 10])
        SynthesisTestSupport.assertNoDuplicates(samples)
        for s in samples {
            XCTAssertNotNil(s.rationale)
            XCTAssertTrue(s.source.hasPrefix("synth:stand-in#\(s.policy)/"), s.source)
            XCTAssertTrue(s.prompt.hasPrefix("[stand-in "), s.prompt)
        }
        let counts = report.state.counts
        XCTAssertEqual(counts.accepted, 40)
        XCTAssertGreaterThan(counts.exactDuplicates, 0, "the stand-in repeats one prompt per (policy, label) in every batch")
        XCTAssertGreaterThan(counts.relabelled, 0, "the stand-in's judge disagrees with one prompt in seven")
        // A relabelled sample carries the judge's label and reason: the stand-in marks prompts with their intended label.
        let relabelled = samples.filter { !$0.prompt.hasPrefix("[stand-in \($0.label.rawValue)]") }
        XCTAssertFalse(relabelled.isEmpty)
        XCTAssertTrue(relabelled.allSatisfy { $0.rationale!.hasPrefix("[stand-in judgement]") })
        XCTAssertEqual(counts.generated, counts.accepted + counts.exactDuplicates + counts.nearDuplicates + counts.surplus + counts.droppedByJudge)
        // Two requests per batch (generate + judge), and the state file agrees with the client's tally.
        XCTAssertEqual(report.usage.requests, 2 * counts.batches)
        XCTAssertEqual(report.state.usage, report.usage)
        let disagreements = try run.ledger.committedDisagreements()
        XCTAssertEqual(disagreements.count, counts.relabelled)
    }

    func testDropModeLeavesDisagreementsOutAndKeepsThemForRefinement() async throws {
        let standIn = try await startStandIn()
        let out = TestSupport.tempDir().appendingPathComponent("synth.jsonl").path
        let run = try makeRun(standIn, policies: ["tax_advice"], count: 8, out: out, reflection: .drop)
        let report = try await run.run()
        await standIn.stop()
        let samples = try SynthesisTestSupport.samples(out)
        XCTAssertEqual(samples.count, 16)
        XCTAssertTrue(samples.allSatisfy { $0.prompt.hasPrefix("[stand-in \($0.label.rawValue)]") }, "no judged-otherwise sample is kept")
        XCTAssertGreaterThan(report.state.counts.droppedByJudge, 0)
        XCTAssertEqual(report.state.counts.relabelled, 0)
        XCTAssertEqual(try run.ledger.committedDisagreements().count, report.state.counts.droppedByJudge)
    }

    func testFaultyRepliesAreRetriedAndNeverWritten() async throws {
        var behaviour = StandInBehaviour()
        behaviour.every = [(3, .ignoresSchema), (5, .truncatedJSON), (7, .serverError), (11, .rateLimited(retryAfter: "0")), (13, .brokenBody)]
        let standIn = try await startStandIn(behaviour)
        let out = TestSupport.tempDir().appendingPathComponent("synth.jsonl").path
        // Faults hit about half the requests: enough retries that no request runs out of them.
        let run = try makeRun(standIn, count: 8, out: out, maxRetries: 30)
        let report = try await run.run()
        await standIn.stop()
        let samples = try SynthesisTestSupport.samples(out)
        XCTAssertEqual(SynthesisTestSupport.counts(samples).values.sorted(), [8, 8, 8, 8])
        SynthesisTestSupport.assertNoDuplicates(samples)
        XCTAssertFalse(samples.contains { $0.prompt.contains("Sure!") || $0.prompt.contains("answer") })
        let usage = report.usage
        let faulted = standIn.requests.filter { $0.fault != nil }
        XCTAssertGreaterThan(faulted.filter { $0.fault == .ignoresSchema }.count, 0)
        XCTAssertEqual(usage.malformedReplies, faulted.filter { [.ignoresSchema, .truncatedJSON, .brokenBody].contains($0.fault!) }.count)
        XCTAssertEqual(usage.serverErrors, faulted.filter { $0.fault == .serverError }.count)
        XCTAssertEqual(usage.rateLimited, faulted.filter { $0.fault == .rateLimited(retryAfter: "0") }.count)
        // Every request that did not fail produced exactly one used reply.
        XCTAssertEqual(usage.completions, standIn.requests.count - faulted.count)
        XCTAssertEqual(usage.completions, 2 * report.state.counts.batches)
    }

    func testNearDuplicatesAreDroppedByTheCorpusBuildersEmbeddingFilter() async throws {
        let embedder = try SentenceEmbedder(directory: try TestSupport.baseModel(), maxLength: 128)
        var behaviour = StandInBehaviour()
        behaviour.paraphraseOneIn = 3
        let standIn = try await startStandIn(behaviour)
        let out = TestSupport.tempDir().appendingPathComponent("synth.jsonl").path
        let run = try makeRun(standIn, policies: ["pii"], count: 6, out: out, embedder: embedder)
        let report = try await run.run()
        await standIn.stop()
        XCTAssertGreaterThan(report.state.counts.nearDuplicates, 0, "'Honestly, ' + an earlier prompt is a near duplicate")
        let samples = try SynthesisTestSupport.samples(out)
        XCTAssertEqual(samples.count, 12)
        // No two accepted prompts of one label are as similar as the threshold.
        for label in SafetyLabel.allCases {
            let prompts = samples.filter { $0.label == label }.map(\.prompt)
            let rows = try embedder.embed(prompts)
            let d = embedder.dimension
            for i in 0..<prompts.count {
                for j in 0..<i {
                    var dot: Float = 0
                    for k in 0..<d { dot += rows.data[i * d + k] * rows.data[j * d + k] }
                    XCTAssertLessThan(dot, 0.95, "\(prompts[i]) ~ \(prompts[j])")
                }
            }
        }
    }

    func testAResumeCutsAHalfWrittenBatchAndCompletesWithoutDuplicates() async throws {
        let standIn = try await startStandIn()
        let out = TestSupport.tempDir().appendingPathComponent("synth.jsonl").path
        _ = try await makeRun(standIn, count: 4, out: out).run()  // the run, and its lock on the output, end here
        let committed = try Data(contentsOf: URL(fileURLWithPath: out))
        // A crash between appending a batch and recording it: half a line past the committed length.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        let half = Data("{\"policy\":\"pii\",\"prompt\":\"half a li".utf8)
        try handle.seekToEnd(); try handle.write(contentsOf: half); try handle.close()
        var second: SynthesisRun? = try makeRun(standIn, count: 9, out: out)
        XCTAssertEqual(second!.ledger.truncatedBytes, UInt64(half.count))
        let report = try await second!.run()
        second = nil
        await standIn.stop()
        XCTAssertEqual(report.resumedSamples, 16)
        let all = try Data(contentsOf: URL(fileURLWithPath: out))
        XCTAssertEqual(all.prefix(committed.count), committed, "what was committed stays, byte for byte")
        let samples = try SynthesisTestSupport.samples(out)
        XCTAssertEqual(SynthesisTestSupport.counts(samples).values.sorted(), [9, 9, 9, 9])
        SynthesisTestSupport.assertNoDuplicates(samples)
        // The finished output is not asked again.
        let standIn2 = try await startStandIn()
        let third = try makeRun(standIn2, count: 9, out: out)
        _ = try await third.run()
        await standIn2.stop()
        XCTAssertEqual(standIn2.requests.count, 0)
    }

    func testResumingUnderOtherSettingsOrOverAForeignFileIsRefused() async throws {
        let standIn = try await startStandIn()
        let dir = TestSupport.tempDir()
        let out = dir.appendingPathComponent("synth.jsonl").path
        _ = try await makeRun(standIn, policies: ["pii"], count: 2, out: out).run()
        await standIn.stop()
        XCTAssertThrowsError(try makeRun(standIn, policies: ["pii"], count: 2, out: out, seed: 2)) { error in
            XCTAssertTrue("\(error)".contains("other settings") && "\(error)".contains("seed 1") && "\(error)".contains("seed 2"), "\(error)")
        }
        let foreign = dir.appendingPathComponent("mine.jsonl").path
        try "{\"policy\":\"pii\",\"prompt\":\"x\",\"label\":\"safe\",\"source\":\"me\"}\n".write(toFile: foreign, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try makeRun(standIn, policies: ["pii"], count: 2, out: foreign)) { error in
            XCTAssertTrue("\(error)".contains("has no state file"), "\(error)")
        }
        // A state file claiming more than the output holds (the output was cut or edited).
        try Data().write(to: URL(fileURLWithPath: out))
        XCTAssertThrowsError(try makeRun(standIn, policies: ["pii"], count: 2, out: out)) { error in
            XCTAssertTrue("\(error)".contains("cut or edited"), "\(error)")
        }
    }

    func testOneWriterPerOutput() throws {
        let out = TestSupport.tempDir().appendingPathComponent("synth.jsonl").path
        var first: SynthesisLedger? = try SynthesisLedger(outputPath: out, identity: "x")
        XCTAssertThrowsError(try SynthesisLedger(outputPath: out, identity: "x")) { error in
            XCTAssertTrue("\(error)".contains("being written by another"), "\(error)")
        }
        XCTAssertNotNil(first)
        first = nil  // closed: the lock goes with it
        XCTAssertTrue(try SynthesisLedger(outputPath: out, identity: "x").resumed)
    }

    func testRefinementWritesASuggestionBesideThePolicyAndNeverOverwrites() async throws {
        let standIn = try await startStandIn()
        let dir = TestSupport.tempDir()
        let policyPath = dir.appendingPathComponent("tax_advice.yaml").path
        try FileManager.default.copyItem(atPath: SynthesisTestSupport.packageRoot.appendingPathComponent("policies/tax_advice.yaml").path, toPath: policyPath)
        let original = try Data(contentsOf: URL(fileURLWithPath: policyPath))
        let policy = try PolicyParser.load(path: policyPath)
        let client = makeClient(standIn)
        let refiner = PolicyRefiner(client: client, model: "stand-in")
        let disagreement = Disagreement(policy: "tax_advice", prompt: "Is a W-2 taxable?", intended: .safe, judged: .unsafe, reason: "asks about own taxes")
        let first = try await refiner.refine(policy, disagreements: [disagreement])
        let second = try await refiner.refine(policy, disagreements: [disagreement, disagreement])
        await standIn.stop()
        XCTAssertEqual(first.path, policyPath + ".suggested")
        XCTAssertEqual(second.path, policyPath + ".suggested-2")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: policyPath)), original, "the original is untouched")
        let suggestion = try String(contentsOfFile: first.path, encoding: .utf8)
        XCTAssertTrue(suggestion.contains("# Critique: [stand-in critique] 1 disagreements"), suggestion)
        XCTAssertEqual(try PolicyParser.parse(yaml: suggestion, path: first.path).id, "tax_advice")
        XCTAssertEqual(try PolicyPack.load(directory: dir.path).ids, ["tax_advice"], "a pack does not load the suggestion as a second policy")
        let refine = standIn.requests.filter { $0.task == "refine" }
        XCTAssertEqual(refine.count, 2)
    }
}
