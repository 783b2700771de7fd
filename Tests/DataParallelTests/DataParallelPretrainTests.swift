import Collectives
import DataParallel
import Foundation
import GuardData
import Guards
import Runtime
import TestHelpers
import Training
import XCTest

/// GIP with N ranks equals GIP in one process with the same global batch, up to float summation order.
final class DataParallelPretrainTests: DataParallelTestCase {
    /// Tolerance on any parameter after a few steps at lr 2e-3 (parameters move up to ~5e-3). The split
    /// changes the summed gradient by ~1e-7 relative, and by up to ~6e-6 with Alice++ (its power iteration
    /// amplifies forward rounding; see DataParallelGradientTests). AdamW divides each moment by its own
    /// magnitude, so a gradient element off by a relative error e moves its parameter by ~lr·e per step, and
    /// an element whose gradient is near zero (at rounding level) by up to lr: measured worst 1.3e-5 (3 ranks,
    /// batch 7), so 5e-5 = lr/40. A mis-scaled share, a row drawn twice or a probe keyed by local row moves
    /// parameters by ~lr (2e-3) in many elements.
    static let tolerance: Float = 5e-5

    /// Two tiny "policies" whose instructions name different trigger words; the label depends on the policy.
    static func writeCorpus(_ url: URL, count: Int, seed: UInt64 = 4) throws {
        let safe = TestSupport.safeWords, unsafe = TestSupport.unsafeWords
        var rng = RandomSource(seed: seed)
        var lines: [String] = []
        for i in 0..<count {
            let policyA = i % 2 == 0, hit = i % 4 < 2
            let trigger = policyA ? unsafe[Int(rng.next() % 4)] : unsafe[4 + Int(rng.next() % 4)]
            var words = (0..<(2 + i % 3)).map { _ in safe[Int(rng.next() % UInt64(safe.count))] }
            if hit { words.insert(trigger, at: Int(rng.next() % 2)) }
            let instruction = policyA ? "ignore bypass override leak" : "exploit jailbreak disable reveal"
            let record: [String: Any] = ["text": "the \(instruction) [SEP] please \(words.joined(separator: " "))",
                                         "label": hit ? "unsafe" : "safe", "policy": policyA ? "a" : "b",
                                         "origin": policyA ? "a" : "b", "phrasing": 0, "source": "test"]
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self))
        }
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    }

    static func options(steps: Int, batch: Int) -> PretrainOptions {
        var o = PretrainOptions()
        o.steps = steps; o.batch = batch; o.lr = 2e-3; o.maxLength = 24; o.seed = 5; o.checkpointEvery = 0; o.warmupRatio = 0
        o.vatEpsilon = 0.05  // all three terms (weights 1) and dropout (on by default)
        return o
    }

    struct RankResult: Sendable {
        var params: [Float]
        var losses: [PretrainLosses]
        var step: Int
    }

    var base: URL!
    var corpus: URL!

    override func setUp() {
        super.setUp()
        base = try! TestSupport.tinyBase(in: directory.appendingPathComponent("base"))
        corpus = directory.appendingPathComponent("corpus.jsonl")
        try! Self.writeCorpus(corpus, count: 22)
    }

    /// One rank's (or the single process's) run; `resume` continues from a checkpoint.
    static func pretrain(base: URL, corpus: URL, options: PretrainOptions, output: URL, reducer: any GradientReducer,
                         resume: URL? = nil, stopAfter: Int? = nil) throws -> RankResult {
        let checkpoint = try resume.map { try PretrainCheckpoint.locate($0) }
        let model = try MultiTaskGuard(directory: checkpoint?.directory ?? base, seed: 1)
        let run = try PretrainRun(model: model, corpus: try CorpusIndex(path: corpus.path), options: options, output: output, reducer: reducer)
        if let checkpoint { try run.resume(from: checkpoint) }
        if let stopAfter { run.shouldStop = { [unowned run] in run.step >= stopAfter && reducer.rank == 0 } }
        var losses: [PretrainLosses] = []
        try run.run(onProgress: { _, l in losses.append(l) })
        return RankResult(params: model.params.values.array, losses: losses, step: run.step)
    }

    func single(_ o: PretrainOptions) throws -> RankResult {
        try Self.pretrain(base: base, corpus: corpus, options: o, output: directory.appendingPathComponent("single"), reducer: SingleProcessReducer())
    }

    func ranks(_ size: Int, _ o: PretrainOptions, name: String, resume: URL? = nil, output: URL? = nil, stopAfter: Int? = nil) throws -> [RankResult] {
        let base = base!, corpus = corpus!, out = output ?? directory.appendingPathComponent(name)
        return try RankThreads.run(size, store: store(name)) { reducer in
            try Self.pretrain(base: base, corpus: corpus, options: o, output: out, reducer: reducer, resume: resume, stopAfter: stopAfter)
        }
    }

    /// N ranks against one process: parameters within the tolerance, identical bytes on every rank, and the
    /// same global losses on every rank (close to the single process's).
    func check(_ size: Int, steps: Int, batch: Int) throws {
        let o = Self.options(steps: steps, batch: batch)
        let one = try single(o)
        let many = try ranks(size, o, name: "ranks-\(size)-batch-\(batch)")
        XCTAssertTrue(RankThreads.identical(many.map(\.params)), "\(size) ranks hold different parameters")
        let diff = RankThreads.maxDifference(one.params, many[0].params)
        let initial = try MultiTaskGuard(directory: base, seed: 1).params
        let moved = RankThreads.maxDifference(one.params, initial.values.array)
        print("DataParallelPretrainTests: \(size) ranks, batch \(batch), \(steps) steps: max |Δparam| vs one process \(diff) at "
              + "\(RankThreads.worst(one.params, many[0].params, slots: initial.slots)) (parameters moved up to \(moved))")
        XCTAssertLessThan(diff, Self.tolerance)
        XCTAssertGreaterThan(moved, 20 * Self.tolerance, "the run must move the parameters for the comparison to mean anything")
        for r in many {
            XCTAssertEqual(r.losses.map(\.total), many[0].losses.map(\.total), "every rank reports the same global loss")
            XCTAssertEqual(r.losses.map(\.maskedTokens), one.losses.map(\.maskedTokens), "the global masked-token count")
        }
        for (a, b) in zip(one.losses, many[0].losses) {
            XCTAssertGreaterThan(a.adversarial, 0); XCTAssertGreaterThan(a.mlm, 0)
            for (x, y) in [(a.mlm, b.mlm), (a.classification, b.classification), (a.adversarial, b.adversarial), (a.consistency, b.consistency)] {
                XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(x)), "a loss term differs: one process \(a), \(size) ranks \(b)")
            }
        }
    }

    func testTwoRanksMatchOneProcess() throws { try check(2, steps: 4, batch: 8) }

    func testThreeRanksWithABatchNotDivisibleByTheWorldSize() throws { try check(3, steps: 4, batch: 7) }

    func testMoreRanksThanRowsLeavesSomeRanksWithoutRows() throws { try check(3, steps: 3, batch: 2) }

    /// A 2-rank run checkpointed at step 2: resuming it with 2 ranks ends bit for bit on the uninterrupted run,
    /// with 3 ranks within the tolerance (elasticity); a stop request ends every rank at the same step.
    func testResumeWithTheSameOrAnotherWorldSizeMatchesTheUninterruptedRun() throws {
        var o = Self.options(steps: 5, batch: 6)
        o.checkpointEvery = 2
        let out = directory.appendingPathComponent("full")
        let full = try ranks(2, o, name: "full", output: out)
        XCTAssertEqual(PretrainCheckpoint.steps(in: out), [2, 4, 5], "rank 0 wrote every checkpoint_every steps and at the end")
        let checkpoint = PretrainCheckpoint.directory(in: out, step: 2)

        let same = try ranks(2, o, name: "resume-2", resume: checkpoint, output: directory.appendingPathComponent("resume-2"))
        XCTAssertEqual(same[0].params, full[0].params, "a 2-rank resume at step 2 differs from the uninterrupted 2-rank run")

        let three = try ranks(3, o, name: "resume-3", resume: checkpoint, output: directory.appendingPathComponent("resume-3"))
        XCTAssertTrue(RankThreads.identical(three.map(\.params)))
        let diff = RankThreads.maxDifference(three[0].params, full[0].params)
        print("DataParallelPretrainTests: resumed at step 2 with 3 ranks vs uninterrupted with 2: max |Δparam| \(diff)")
        XCTAssertLessThan(diff, Self.tolerance)

        let stopped = try ranks(2, o, name: "stop", output: directory.appendingPathComponent("stop"), stopAfter: 3)
        XCTAssertEqual(stopped.map(\.step), [3, 3], "rank 0's stop request ends both ranks after step 3")
        XCTAssertEqual(PretrainCheckpoint.steps(in: directory.appendingPathComponent("stop")), [2])
    }
}
