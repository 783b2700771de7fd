import Collectives
import DataParallel
import EncoderModel
import Foundation
import GuardData
import Guards
import Runtime
import TestHelpers
import Tokenizers
@testable import Training
import XCTest

/// The gradient itself: the ranks' shares of one GIP step, summed by the reducer, equal the single process's
/// gradient of the whole batch to float rounding. This is the tight check (no optimizer in between to
/// amplify rounding): a mis-scaled share, a row counted twice or a random draw keyed by local position would
/// each be off by a large fraction of the gradient.
///
/// Measured (tiny model, 2-4 ranks): MLM + classification + dropout differ by ~1.3e-7 relative (float
/// rounding); with Alice++ by up to ~6e-6, because its power iteration differentiates KL(p ‖ p(x+δ₀)) at a probe
/// of size ξ = 0.01, where p(x+δ₀) − p(x) ~ 1e-4 carries the forward pass's rounding (different padded lengths
/// and BLAS blocking per split) at ~1e-3 relative into the adversarial direction.
final class DataParallelGradientTests: DataParallelTestCase {
    struct Step: Sendable {
        var gradient: [Float]
        var losses: PretrainLosses
    }

    /// This rank's rows of step 3's global batch: its gradient share summed over the ranks, and the global losses.
    static func gradient(base: URL, corpus: URL, batch: Int, alice: Bool, reducer: any GradientReducer) throws -> Step {
        var o = DataParallelPretrainTests.options(steps: 1, batch: batch)
        if !alice { o.vatWeight = 0 }
        let model = try MultiTaskGuard(directory: base, seed: 1)
        let trainer = try GuardrailPretrainer(model: model, options: o, reducer: reducer)
        let index = try CorpusIndex(path: corpus.path)
        let mine = BatchPartition.range(batch: batch, rank: reducer.rank, worldSize: reducer.worldSize)
        let step = 3, records = try index.records(Array(mine).map { ($0 + step * batch) % index.count })
        let encodings = records.map { model.tokenizer.encode($0.text, maxLength: o.maxLength) }
        let share = try XCTUnwrap(trainer.gradients(encodings, labels: records.map { Int32($0.label.classIndex) }, stepIndex: step,
                                                    firstRow: step * batch + mine.lowerBound, batchRow: mine.lowerBound, globalRows: batch))
        var stats: [Float] = [share.mlm, share.classification, share.adversarial, share.consistency, share.total]
        try stats.withUnsafeMutableBufferPointer { try reducer.sum($0) }
        try reducer.sum(UnsafeMutableBufferPointer(start: trainer.grads.data, count: trainer.grads.count))
        return Step(gradient: trainer.grads.array,
                    losses: PretrainLosses(mlm: stats[0], classification: stats[1], adversarial: stats[2], consistency: stats[3],
                                           total: stats[4], maskedTokens: share.maskedTokens))
    }

    func testSummedSharesEqualTheWholeBatchGradient() throws {
        try check(alice: false, tolerance: 1e-6)
    }

    func testSummedSharesEqualTheWholeBatchGradientWithAlice() throws {
        try check(alice: true, tolerance: 5e-5)
    }

    func check(alice: Bool, tolerance: Double) throws {
        let base = try TestSupport.tinyBase(in: directory.appendingPathComponent("base"))
        let corpus = directory.appendingPathComponent("corpus.jsonl")
        try DataParallelPretrainTests.writeCorpus(corpus, count: 22)
        for (size, batch) in [(2, 8), (3, 7), (4, 3)] {
            let one = try Self.gradient(base: base, corpus: corpus, batch: batch, alice: alice, reducer: SingleProcessReducer())
            let ranks = try RankThreads.run(size, store: store("gradient-\(size)")) { reducer in
                try Self.gradient(base: base, corpus: corpus, batch: batch, alice: alice, reducer: reducer)
            }
            XCTAssertTrue(RankThreads.identical(ranks.map(\.gradient)), "every rank holds the same summed gradient")
            var diff = 0.0, norm = 0.0
            for (a, b) in zip(one.gradient, ranks[0].gradient) { diff += Double(a - b) * Double(a - b); norm += Double(a) * Double(a) }
            let relative = (diff / norm).squareRoot()
            print("DataParallelGradientTests: \(alice ? "MLM + Alice++ + classification" : "MLM + classification"), \(size) ranks, batch \(batch): ‖g_ranks − g_one‖ / ‖g_one‖ = \(relative); "
                  + "max |Δg| \(RankThreads.maxDifference(one.gradient, ranks[0].gradient)) of max |g| \(one.gradient.map(abs).max()!)")
            XCTAssertLessThan(relative, tolerance)
            XCTAssertEqual(ranks[0].losses.maskedTokens, one.losses.maskedTokens)
            let terms = [(one.losses.mlm, ranks[0].losses.mlm), (one.losses.classification, ranks[0].losses.classification)]
                + (alice ? [(one.losses.adversarial, ranks[0].losses.adversarial), (one.losses.consistency, ranks[0].losses.consistency)] : [])
            for (a, b) in terms {
                XCTAssertGreaterThan(a, 0)
                XCTAssertEqual(a, b, accuracy: 1e-5 * a, "a loss term's global mean")
            }
        }
    }
}
