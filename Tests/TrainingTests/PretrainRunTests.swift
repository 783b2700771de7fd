@testable import GuardData
@testable import Guards
@testable import Runtime
import TestHelpers
@testable import Training
import XCTest

/// The GIP loop on the tiny model: it learns, checkpoints resume bit-identically, and mismatched resumes and
/// damaged corpora are refused with messages that say what to do.
final class PretrainRunTests: XCTestCase {
    /// Two tiny "policies" whose instructions name different trigger words; the label depends on the policy.
    static func writeCorpus(_ url: URL, count: Int = 96, seed: UInt64 = 4) throws {
        let safe = TaskGuardTrainerTests.safeWords, unsafe = TaskGuardTrainerTests.unsafeWords
        var rng = RandomSource(seed: seed)
        var out: [UInt8] = []
        for i in 0..<count {
            let policyA = i % 2 == 0
            let hit = i % 4 < 2
            let trigger = policyA ? unsafe[Int(rng.next() % 4)] : unsafe[4 + Int(rng.next() % 4)]
            var words = (0..<3).map { _ in safe[Int(rng.next() % UInt64(safe.count))] }
            if hit { words.insert(trigger, at: Int(rng.next() % 3)) }
            let instruction = policyA ? "ignore bypass override leak" : "exploit jailbreak disable reveal"
            let rec = CorpusRecord(text: "the \(instruction) [SEP] please \(words.joined(separator: " "))", label: hit ? .unsafe : .safe,
                                   policy: policyA ? "a" : "b", origin: policyA ? "a" : "b", phrasing: 0, source: "test")
            CorpusCodec.encode(rec, into: &out)
            out.append(0x0A)
        }
        try Data(out).write(to: url)
    }

    static func options(steps: Int) -> PretrainOptions {
        var o = PretrainOptions()
        o.steps = steps; o.batch = 8; o.lr = 2e-3; o.maxLength = 24; o.seed = 5; o.checkpointEvery = 3; o.warmupRatio = 0
        o.vatEpsilon = 0.05
        return o
    }

    func testResumeFromCheckpointMatchesUninterruptedRun() throws {
        let base = try TestSupport.tinyBase(), dir = TestSupport.tempDir()
        let corpusURL = dir.appendingPathComponent("corpus.jsonl")
        try Self.writeCorpus(corpusURL, count: 20)  // 8 x 7 steps wraps into a third epoch
        let corpus = try CorpusIndex(path: corpusURL.path)

        let full = try MultiTaskGuard(directory: base, seed: 1)
        let outA = dir.appendingPathComponent("a")
        var checkpoints: [URL] = []
        let runA = try PretrainRun(model: full, corpus: corpus, options: Self.options(steps: 7), output: outA)
        try runA.run(onCheckpoint: { dir, _ in checkpoints.append(dir) })
        // Every 3 steps, and the last step (so a finished run can be extended with a larger --steps).
        XCTAssertEqual(checkpoints.map(\.lastPathComponent), ["step-0000003", "step-0000006", "step-0000007"])

        // Resume from step 3 of that run, as `uniguard pretrain --resume` does.
        let ck = try PretrainCheckpoint.locate(checkpoints[0])
        XCTAssertEqual(ck.step, 3)
        let resumed = try MultiTaskGuard(directory: ck.directory, seed: 1)
        let run = try PretrainRun(model: resumed, corpus: corpus, options: ck.options, output: dir.appendingPathComponent("b"))
        try run.resume(from: ck)
        try run.run()
        XCTAssertEqual(run.trainer.optimizer.stepCount, 7)
        XCTAssertEqual(resumed.params.values.array, full.params.values.array, "resumed parameters differ from the uninterrupted run")
        XCTAssertEqual(run.trainer.optimizer.m.array, runA.trainer.optimizer.m.array)
        XCTAssertEqual(run.trainer.optimizer.v.array, runA.trainer.optimizer.v.array)

        // The latest checkpoint is found from the run's output directory.
        XCTAssertEqual(try PretrainCheckpoint.locate(outA).step, 7)
    }

    func testResumeRefusesAnotherCorpusOrOtherSettings() throws {
        let base = try TestSupport.tinyBase(), dir = TestSupport.tempDir()
        let c1 = dir.appendingPathComponent("c1.jsonl"), c2 = dir.appendingPathComponent("c2.jsonl")
        try Self.writeCorpus(c1, count: 16, seed: 1)
        try Self.writeCorpus(c2, count: 16, seed: 2)
        let out = dir.appendingPathComponent("out")
        try PretrainRun(model: try MultiTaskGuard(directory: base, seed: 1), corpus: try CorpusIndex(path: c1.path),
                        options: Self.options(steps: 4), output: out).run()
        let ck = try PretrainCheckpoint.locate(out)
        let other = try PretrainRun(model: try MultiTaskGuard(directory: ck.directory, seed: 1), corpus: try CorpusIndex(path: c2.path),
                                    options: ck.options, output: out)
        XCTAssertThrowsError(try other.resume(from: ck)) { XCTAssertTrue("\($0)".contains("not the corpus the checkpoint was trained on"), "\($0)") }
        var changed = ck.options
        changed.vatWeight = 0.5
        let differentSettings = try PretrainRun(model: try MultiTaskGuard(directory: ck.directory, seed: 1), corpus: try CorpusIndex(path: c1.path),
                                                options: changed, output: out)
        XCTAssertThrowsError(try differentSettings.resume(from: ck)) { XCTAssertTrue("\($0)".contains("vat-weight"), "\($0)") }
    }

    func testPretrainingLearnsThePolicyDependentLabel() throws {
        let base = try TestSupport.tinyBase(), dir = TestSupport.tempDir()
        let corpusURL = dir.appendingPathComponent("corpus.jsonl")
        try Self.writeCorpus(corpusURL, count: 96)
        var o = Self.options(steps: 60)
        o.checkpointEvery = 0
        let model = try MultiTaskGuard(directory: base, seed: 1)
        let losses = try PretrainRun(model: model, corpus: try CorpusIndex(path: corpusURL.path), options: o, output: dir).run()
        XCTAssertGreaterThan(losses.maskedTokens, 0)
        XCTAssertGreaterThan(losses.adversarial, 0)
        let out = dir.appendingPathComponent("mtg")
        try model.save(to: out, maxLength: o.maxLength, recipe: nil)
        let guardModel = try GuardModel.load(out)
        XCTAssertTrue(guardModel.requiresPolicy)
        // Score held-out samples from the same generator.
        let test = dir.appendingPathComponent("test.jsonl")
        try Self.writeCorpus(test, count: 64, seed: 99)
        let idx = try CorpusIndex(path: test.path)
        let recs = try (0..<idx.count).map { try idx.record($0) }
        let counts = ConfusionCounts(scores: try guardModel.scores(inputs: recs.map(\.text)), unsafe: recs.map { $0.label == .unsafe }, threshold: 0.5)
        print("[pretrain tiny] held-out accuracy \(counts.accuracy), F1 \(counts.f1); mean losses \(losses)")
        XCTAssertGreaterThan(counts.accuracy, 0.85)
    }

    func testCorpusErrorsNameFileLineAndField() throws {
        let dir = TestSupport.tempDir(), url = dir.appendingPathComponent("bad.jsonl")
        try Self.writeCorpus(url, count: 3)
        var text = try String(contentsOf: url, encoding: .utf8)
        text += #"{"text":"x","label":"maybe","policy":"a"}"# + "\n"
        try text.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CorpusIndex(path: url.path)) { e in
            XCTAssertEqual("\(e)", "\(url.path):4: field 'label': expected \"safe\" or \"unsafe\", got \"maybe\"")
        }
        let skipping = try CorpusIndex(path: url.path, skipInvalid: true)
        XCTAssertEqual(skipping.count, 3)
        XCTAssertEqual(skipping.skipped, 1)
        XCTAssertThrowsError(try CorpusIndex(path: dir.appendingPathComponent("none.jsonl").path)) { XCTAssertTrue("\($0)".contains("no such file")) }
    }

    func testCorpusOrderIsASeededPermutationPerEpoch() {
        var a = CorpusOrder(count: 10, seed: 3), b = CorpusOrder(count: 10, seed: 3), c = CorpusOrder(count: 10, seed: 4)
        let first = (0..<5).flatMap { a.rows(step: $0, batch: 4) }  // 20 positions = 2 epochs
        XCTAssertEqual(Set(first.prefix(10)), Set(0..<10))
        XCTAssertEqual(Set(first.suffix(10)), Set(0..<10))
        XCTAssertNotEqual(Array(first.prefix(10)), Array(first.suffix(10)), "each epoch reshuffles")
        XCTAssertEqual(b.rows(step: 3, batch: 4), Array(first[12..<16]), "a step's rows do not depend on the steps before it")
        XCTAssertNotEqual((0..<3).flatMap { c.rows(step: $0, batch: 4) }, Array(first.prefix(12)))
    }
}
