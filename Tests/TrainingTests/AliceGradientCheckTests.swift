@testable import EncoderModel
@testable import Guards
@testable import Runtime
import TestHelpers
@testable import Tokenizers
@testable import Training
import XCTest

/// Finite-difference checks of Alice++'s virtual adversarial term on a tiny random model: the power-iteration
/// direction is the KL's gradient with respect to the input perturbation, and with δ and the clean
/// probabilities held fixed, the parameter gradient of a·MLM + c·CE + b·(CE(x+δ) + KL(p ‖ p(x+δ))) matches.
final class AliceGradientCheckTests: XCTestCase {
    static let labels: [Int32] = [1, 0, 1]
    static let encodings: [Encoding] = [
        [2, 5, 17, 9, 3, 30, 41, 3], [2, 12, 8, 3, 22, 3], [2, 44, 7, 26, 3, 13, 3],
    ].map { Encoding(ids: $0, tokens: []) }

    func makeTrainer(_ o: PretrainOptions) throws -> GuardrailPretrainer {
        let model = try MultiTaskGuard(directory: try TestSupport.tinyBase(), seed: 3)
        var rng = RandomSource(seed: 1234)
        for s in model.params.slots {
            let p = model.params.values.data + s.offset
            if s.name.contains("LayerNorm.weight") { for i in 0..<s.count { p[i] = 1 + 0.2 * rng.nextNormal() } }
            else { rng.fillNormal(p, count: s.count, std: s.name.hasSuffix(".bias") ? 0.1 : 0.3) }
        }
        return try GuardrailPretrainer(model: model, options: o)
    }

    static var options: PretrainOptions {
        var o = PretrainOptions()
        o.mlmWeight = 0.7; o.clsWeight = 0.5; o.vatWeight = 1.3; o.maskRate = 0.35; o.vatEpsilon = 0.4; o.vatXi = 0.5; o.seed = 11
        return o
    }

    /// KL(q ‖ p(x+δ)) with q fixed, on a fresh workspace and head.
    func kl(_ t: GuardrailPretrainer, _ batch: TokenBatch, _ delta: UnsafePointer<Float>, _ q: [Float]) throws -> Float {
        let ws = EncoderWorkspace(config: t.model.config, training: true)
        let head = try t.model.makeClassifier()
        let hidden = try t.model.encoder.forward(batch, workspace: ws, inputPerturbation: delta)
        let logits = head.computeLogits(hidden: hidden, batch: batch)
        var scratch = [Float](repeating: 0, count: logits.count)
        return VirtualAdversarial.klDivergence(target: q, logits: logits.baseAddress!, rows: batch.batch, classes: 2, weight: 0, dLogits: &scratch)
    }

    func testPowerIterationFollowsTheKLGradient() throws {
        let t = try makeTrainer(Self.options)
        XCTAssertNotNil(try t.gradients(Self.encodings, labels: Self.labels, stepIndex: 5, firstRow: 0))
        let batch = try XCTUnwrap(t.lastClassificationBatch), h = t.model.config.hiddenSize, n = batch.batch * batch.seqLen * h
        let found = Array(t.lastPerturbation)
        // Recreate the probe the step started from, then differentiate the KL there numerically.
        var probe = [Float](repeating: 0, count: n)
        VirtualAdversarial.randomProbe(&probe, batch: batch, hidden: h, xi: Self.options.vatXi, key: RandomSource.key(Self.options.seed, 5, 3))
        let q = t.lastCleanProbabilities
        var fd = [Float](repeating: 0, count: n)
        let eps: Float = 1e-2
        for i in 0..<n where batch.mask[i / h] != 0 {
            let old = probe[i]
            probe[i] = old + eps; let up = try kl(t, batch, probe, q)
            probe[i] = old - eps; let down = try kl(t, batch, probe, q)
            probe[i] = old
            fd[i] = (up - down) / (2 * eps)
        }
        let per = batch.seqLen * h
        for r in 0..<batch.batch {
            let a = Array(found[(r * per)..<((r + 1) * per)]), b = Array(fd[(r * per)..<((r + 1) * per)])
            let dot = zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            let na = a.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot(), nb = b.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            XCTAssertGreaterThan(nb, 1e-6, "row \(r): the KL must respond to the probe")
            XCTAssertGreaterThan(dot / (na * nb), 0.99, "row \(r): adversarial direction vs finite-difference KL gradient")
            // Norm bound: ε per real token on average.
            let real = Float(batch.lengths[r])
            XCTAssertEqual(na, Self.options.vatEpsilon * real.squareRoot(), accuracy: 1e-3 * na)
            print("[gradcheck VAT direction] row \(r): cosine \(dot / (na * nb))")
        }
    }

    func testParameterGradientsOfTheWholeObjective() throws {
        try checkWholeObjective(Self.options)
    }

    /// The older objective: classification and Alice++ on the masked sequence (one clean pass for all terms), unweighted.
    func testParameterGradientsOfTheWholeObjectiveOnMaskedInputs() throws {
        var o = Self.options
        o.clsOnUnmasked = false; o.classBalance = false
        try checkWholeObjective(o)
    }

    func checkWholeObjective(_ o: PretrainOptions) throws {
        let t = try makeTrainer(o)
        let h = t.model.config.hiddenSize
        // A fixed perturbation: first let a step find one, then hold it.
        XCTAssertNotNil(try t.gradients(Self.encodings, labels: Self.labels, stepIndex: 2, firstRow: 0))
        let delta = Array(t.lastPerturbation)
        t.grads.fill(0)
        let losses = try XCTUnwrap(try t.gradients(Self.encodings, labels: Self.labels, stepIndex: 2, firstRow: 0, perturbation: delta))
        XCTAssertGreaterThan(losses.maskedTokens, 0)
        XCTAssertGreaterThan(losses.consistency, 0)
        let batch = try XCTUnwrap(t.lastBatch), mlmLabels = try XCTUnwrap(t.lastMLMLabels), q = t.lastCleanProbabilities
        // The classifier's input: the unmasked sequence with clsOnUnmasked, else the masked one.
        let clsBatch = try XCTUnwrap(t.lastClassificationBatch)
        XCTAssertEqual(clsBatch.ids != batch.ids, o.clsOnUnmasked, "the classifier reads the masked batch only without clsOnUnmasked")
        XCTAssertEqual(t.classWeights != .unweighted, o.classBalance, "labels [1, 0, 1] are reweighted only with classBalance")
        XCTAssertEqual(delta.count, batch.batch * batch.seqLen * h)
        let ws = EncoderWorkspace(config: t.model.config, training: true)
        let cls = try t.model.makeClassifier(), mlm = try t.model.makeMaskedLMHead()
        func loss() throws -> Float {
            var hidden = try t.model.encoder.forward(batch, workspace: ws)
            let lm = try mlm.forward(hidden: hidden, batch: batch, labels: mlmLabels, dropout: nil)
            hidden = try t.model.encoder.forward(clsBatch, workspace: ws)
            // The gold-label terms weighed as the step weighed them (classBalance; unweighted without it).
            let w = t.classWeights
            _ = try cls.forward(hidden: hidden, batch: clsBatch, labels: Self.labels, dropout: nil)
            let ce = w.reweight(logits: cls.logits.baseAddress!, labels: Self.labels, classes: 2, dLogits: cls.logitGradient.baseAddress!)
            hidden = try t.model.encoder.forward(clsBatch, workspace: ws, inputPerturbation: delta)
            _ = try cls.forward(hidden: hidden, batch: clsBatch, labels: Self.labels, dropout: nil)
            let adv = w.reweight(logits: cls.logits.baseAddress!, labels: Self.labels, classes: 2, dLogits: cls.logitGradient.baseAddress!)
            var scratch = [Float](repeating: 0, count: clsBatch.batch * 2)
            let kl = VirtualAdversarial.klDivergence(target: q, logits: cls.logits.baseAddress!, rows: clsBatch.batch, classes: 2, weight: 0, dLogits: &scratch)
            return o.mlmWeight * lm + o.clsWeight * ce + o.vatWeight * (adv + kl)
        }
        XCTAssertEqual(try loss(), losses.total, accuracy: 1e-5 * abs(losses.total))
        let grads = t.grads, p = t.model.params.values.data
        var largest: Float = 0
        for i in 0..<grads.count { largest = max(largest, abs(grads.data[i])) }
        var rng = RandomSource(seed: 9)
        var worst: Float = 0, worstName = "", raw: Float = 0
        let eps: Float = 4e-3
        // 4 ulps of the loss are forgiven as float rounding of the differences (as in BackwardGradientCheckTests).
        let noise = 4 * losses.total.ulp / (2 * eps)
        for s in t.model.params.slots {
            var picks = [s.offset + (0..<s.count).max { abs(grads.data[s.offset + $0]) < abs(grads.data[s.offset + $1]) }!]
            for _ in 0..<min(5, s.count - 1) { picks.append(s.offset + Int(rng.next() % UInt64(s.count))) }
            for i in picks {
                let old = p[i]
                p[i] = old + eps; let up = try loss()
                p[i] = old - eps; let down = try loss()
                p[i] = old
                raw = max(raw, abs((up - down) / (2 * eps) - grads.data[i]) / max(abs(grads.data[i]), 1e-2 * largest))
                let err = max(0, abs((up - down) / (2 * eps) - grads.data[i]) - noise) / max(abs(grads.data[i]), 1e-2 * largest)
                if err > worst { worst = err; worstName = s.name }
            }
        }
        print("[gradcheck Alice++ objective] worst relative error \(worst) at \(worstName) (before forgiving rounding: \(raw)); largest gradient \(largest)")
        XCTAssertLessThan(worst, 2e-2, "worst at \(worstName)")
    }
}
