import Collectives
import DataParallel
import Foundation
import Guards
import Runtime
import TestHelpers
import Training
import XCTest

/// TaskGuard fine-tuning (FFT and CFT) with N ranks equals one process with the same global batch, and a
/// checkpointed run resumes onto the uninterrupted run's parameters.
final class DataParallelFinetuneTests: DataParallelTestCase {
    /// No Alice++ here: the gradients differ by float rounding only (~1e-7 relative); measured worst ~1.4e-6
    /// after 8 AdamW steps at lr 3e-3 (see DataParallelPretrainTests.tolerance for how AdamW scales it).
    static let tolerance: Float = 1e-5

    struct RankResult: Sendable {
        var params: [Float]
        var losses: [Double]
        var step: Int
        /// Each epoch's validation confusion counts (tp, fp, tn, fn).
        var validation: [[Int]]
        /// The threshold chosen on validation at the last step (0.5 when the run stopped early).
        var threshold: Float
    }

    var base: URL!

    override func setUp() {
        super.setUp()
        base = try! TestSupport.tinyBase(in: directory.appendingPathComponent("base"))
    }

    static func options(_ mode: TrainingOptions.Mode) -> TrainingOptions {
        var o = TrainingOptions()
        o.mode = mode; o.epochs = 2; o.batch = 6; o.lr = 3e-3; o.warmupRatio = 0; o.seed = 11
        return o  // dropout on (FFT): masks keyed by the row's place in the global batch
    }

    /// 20 examples in batches of 6: three full steps and one of 2 rows per epoch (3 ranks: one rank idle then).
    static let examples = TestSupport.tinyExamples(20, seed: 3)

    static func finetune(base: URL, options: TrainingOptions, output: URL?, reducer: any GradientReducer, resume: URL? = nil) throws -> RankResult {
        let checkpoint = try resume.map { try FinetuneCheckpoint.locate($0) }
        let model = try checkpoint?.loadModel() ?? GuardModel.fromBase(base, metadata: GuardMetadata(policy: "t", instruction: "test policy",
            inputFormat: .prompt, head: .mean, maxLength: 16), seed: 1)
        let validation = TestSupport.tinyExamples(11, seed: 9).map { (text: $0.text, unsafe: $0.label == 1) }
        let run = try FinetuneRun(model: model, options: options, examples: examples, validation: validation, output: output, reducer: reducer)
        if let checkpoint { try run.resume(from: checkpoint) }
        run.targetFPR = 0.3
        var losses: [Double] = []
        let summaries = try run.run(onProgress: { losses.append($0.loss) })
        return RankResult(params: model.params.values.array, losses: losses, step: run.step,
                          validation: summaries.map { s in s.validation.map { [$0.counts.tp, $0.counts.fp, $0.counts.tn, $0.counts.fn] } ?? [] },
                          threshold: model.metadata.threshold)
    }

    func ranks(_ size: Int, _ o: TrainingOptions, name: String, output: URL? = nil, resume: URL? = nil) throws -> [RankResult] {
        let base = base!
        return try RankThreads.run(size, store: store(name)) { reducer in
            try Self.finetune(base: base, options: o, output: output, reducer: reducer, resume: resume)
        }
    }

    func check(_ mode: TrainingOptions.Mode, ranks size: Int) throws {
        let o = Self.options(mode)
        let one = try Self.finetune(base: base, options: o, output: nil, reducer: SingleProcessReducer())
        let many = try ranks(size, o, name: "\(mode)-\(size)")
        XCTAssertTrue(RankThreads.identical(many.map(\.params)), "\(size) ranks hold different parameters")
        let diff = RankThreads.maxDifference(one.params, many[0].params)
        print("DataParallelFinetuneTests: \(mode.rawValue), \(size) ranks, batch 6 of 20 samples, 8 steps: max |Δparam| vs one process \(diff)")
        XCTAssertLessThan(diff, Self.tolerance)
        XCTAssertEqual(one.step, 8)
        for r in many {
            XCTAssertEqual(r.losses, many[0].losses, "every rank reports the same global loss")
            XCTAssertEqual(r.validation, one.validation, "validation scored in shares gives the one-process counts on every rank")
            XCTAssertEqual(r.threshold, many[0].threshold, "every rank chooses the same threshold")
        }
        XCTAssertNotEqual(one.threshold, 0.5, "the last step calibrates the threshold")
        XCTAssertEqual(one.threshold, many[0].threshold, accuracy: 1e-3)
        XCTAssertEqual(one.validation.count, 2)
        XCTAssertEqual(one.validation.first?.reduce(0, +), 11)
        for (a, b) in zip(one.losses, many[0].losses) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(a))) }
    }

    func testFullFineTuningTwoRanksMatchesOneProcess() throws { try check(.fft, ranks: 2) }

    func testFullFineTuningThreeRanksMatchesOneProcess() throws { try check(.fft, ranks: 3) }

    func testClassifierFineTuningThreeRanksMatchesOneProcess() throws { try check(.cft, ranks: 3) }

    /// A diverging run: every rank skips the same non-finite steps and stops with the same error at the same
    /// step (none waits forever in a reduce the others skipped).
    func testNonFiniteStepsAreSkippedAlikeOnEveryRank() throws {
        var o = Self.options(.fft)
        o.lr = 1e30; o.maxGradNorm = 1e30; o.epochs = 3
        let base = base!, diverging = o
        let outcomes = try RankThreads.run(3, store: store("diverge")) { reducer -> String in
            do {
                _ = try Self.finetune(base: base, options: diverging, output: nil, reducer: reducer)
                return "finished"
            } catch let error as TrainingError {
                return "\(error)"
            }
        }
        print("DataParallelFinetuneTests: diverging 3-rank run: \(outcomes[0])")
        XCTAssertTrue(outcomes[0].contains("NaN"), outcomes[0])
        XCTAssertEqual(Set(outcomes).count, 1, "ranks disagree: \(outcomes)")
    }

    /// The data order is a pure function of (seed, epoch) and equals the order the loop drew before.
    func testEpochOrderReplaysTheSeededShuffles() {
        var rng = RandomSource(seed: RandomSource.key(11, 0x5EED))
        for epoch in 1...3 {
            var order = Array(0..<20)
            order.shuffle(using: &rng)
            XCTAssertEqual(FinetuneRun.order(count: 20, seed: 11, epoch: epoch), order)
        }
    }

    /// Checkpoints every 3 steps with 2 ranks; resuming the step-3 one (mid-epoch 1) with 2 ranks ends bit for
    /// bit on the uninterrupted run, and with 3 ranks within the tolerance; the checkpoint restores the
    /// optimizer and the epoch's running loss.
    func testResumeMidEpochMatchesTheUninterruptedRun() throws {
        var o = Self.options(.fft)
        o.checkpointEvery = 3
        let out = directory.appendingPathComponent("full")
        let full = try ranks(2, o, name: "full", output: out)
        XCTAssertEqual(FinetuneCheckpoint.steps(in: out), [3, 6, 8])
        let checkpoint = FinetuneCheckpoint.directory(in: out, step: 3)
        XCTAssertEqual(try FinetuneCheckpoint.locate(checkpoint).epochLossSteps, 3)

        let same = try ranks(2, o, name: "resume-2", output: directory.appendingPathComponent("r2"), resume: checkpoint)
        XCTAssertEqual(same[0].params, full[0].params, "a 2-rank resume at step 3 differs from the uninterrupted run")
        XCTAssertEqual(same[0].losses.last, full[0].losses.last, "the epoch's running loss continues from the checkpoint")

        let three = try ranks(3, o, name: "resume-3", output: directory.appendingPathComponent("r3"), resume: checkpoint)
        let diff = RankThreads.maxDifference(three[0].params, full[0].params)
        print("DataParallelFinetuneTests: resumed at step 3 with 3 ranks vs uninterrupted with 2: max |Δparam| \(diff)")
        XCTAssertLessThan(diff, Self.tolerance)

        // Other data is refused, naming what to do.
        let other = try FinetuneRun(model: try GuardModel.load(checkpoint), options: o, examples: TestSupport.tinyExamples(20, seed: 4))
        XCTAssertThrowsError(try other.resume(from: try FinetuneCheckpoint.locate(checkpoint))) {
            XCTAssertTrue("\($0)".contains("resume with the same data"), "\($0)")
        }
    }
}
