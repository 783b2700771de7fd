import EncoderModel
import Foundation
import Guards
import Runtime
import Tokenizers

/// Guardrail-instruction pretraining (the paper's MultiTaskGuard recipe): each step takes instruction-formatted
/// inputs with their verdicts and minimises a·MLM + b·Alice++ + c·classification.
///
/// One step, in order:
/// 1. dynamic masking (when a > 0); the classification and Alice++ terms see the same masked sequence, so one
///    clean pass serves all three terms and masking doubles as input noise;
/// 2. clean forward → MLM loss (tied decoder) and classification loss; p = softmax(clean logits) is kept
///    as a constant (VAT's stop-gradient);
/// 3. Alice++ (when b > 0): a random probe δ₀ of size ξ; forward at x+δ₀, backward of KL(p ‖ p(x+δ₀)) to the
///    input embeddings only: one power-iteration step gives the adversarial direction g, and δ = ε·g/‖g‖;
///    forward at x+δ, loss CE(y, p(x+δ)) + KL(p ‖ p(x+δ)), backward into the parameter gradients;
/// 4. backward of the clean terms, clipping, AdamW.
/// All passes share one dropout mask set (counter-based), so the KL measures the perturbation only.
public final class GuardrailPretrainer {
    public let model: MultiTaskGuard
    public let options: PretrainOptions
    public let optimizer: AdamW
    let grads: Tensor
    private let mlm: MaskedLMHead
    private let classifier: ClassificationHead, perturbedClassifier: ClassificationHead
    private let cleanWS: EncoderWorkspace
    private lazy var perturbedWS = EncoderWorkspace(config: model.config, training: true)
    private let gradWS: EncoderGradientWorkspace
    private var delta = Tensor(zeros: [0])
    private var cleanProbs: [Float] = []
    private let masking: DynamicMasking

    /// The last step's inputs after masking, MLM labels, perturbation and clean probabilities (for tests).
    public private(set) var lastBatch: TokenBatch?
    public private(set) var lastMLMLabels: [Int32]?
    public var lastPerturbation: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: delta.data, count: delta.count) }
    public var lastCleanProbabilities: [Float] { cleanProbs }

    public init(model: MultiTaskGuard, options: PretrainOptions) throws {
        self.model = model; self.options = options
        optimizer = AdamW(params: model.params, weightDecay: options.weightDecay)
        grads = model.params.makeLike()
        mlm = try model.makeMaskedLMHead()
        classifier = try model.makeClassifier()
        perturbedClassifier = try model.makeClassifier()
        cleanWS = EncoderWorkspace(config: model.config, training: true)
        gradWS = EncoderGradientWorkspace(config: model.config)
        masking = DynamicMasking(rate: options.maskRate)
    }

    /// One optimizer step on `encodings` (row `firstRow` onward of the run) with class labels (0 safe, 1 unsafe).
    /// Returns nil and applies nothing when the loss or the gradient norm is not finite.
    public func step(_ encodings: [Encoding], labels: [Int32], stepIndex: Int, firstRow: Int, lr: Float) throws -> PretrainLosses? {
        defer { grads.fill(0) }
        guard let losses = try gradients(encodings, labels: labels, stepIndex: stepIndex, firstRow: firstRow) else { return nil }
        let norm = GradClip.clip(grads, maxNorm: options.maxGradNorm)
        guard norm.isFinite else { return nil }
        optimizer.step(grads: grads, lr: lr)
        return losses
    }

    /// Computes the losses and adds their gradients into `grads` (no update). Nil when the loss is not finite.
    /// `perturbation` replaces Alice++'s power-iteration direction (finite-difference tests hold δ fixed).
    public func gradients(_ encodings: [Encoding], labels: [Int32], stepIndex: Int, firstRow: Int,
                          perturbation: [Float]? = nil) throws -> PretrainLosses? {
        let o = options, c = model.config, tok = model.tokenizer
        guard encodings.count == labels.count, !encodings.isEmpty else { throw ModelError.badInput("\(encodings.count) inputs for \(labels.count) labels") }
        var batch = TokenBatch.padded(encodings, pad: tok.special.pad)
        var mlmLabels: [Int32]?
        if o.mlmWeight > 0 {
            let m = masking.apply(to: batch, special: tok.special, vocabSize: c.vocabSize,
                                  key: RandomSource.key(o.seed, UInt64(stepIndex), 1), firstRow: firstRow)
            batch = m.batch
            if m.labels.contains(where: { $0 != Losses.ignoreIndex }) { mlmLabels = m.labels }
        }
        lastBatch = batch; lastMLMLabels = mlmLabels
        let drop = o.dropout ? DropoutSpec(config: c, seed: RandomSource.key(o.seed, UInt64(stepIndex), 2), firstRow: firstRow) : nil
        cleanWS.dropout = drop
        var losses = PretrainLosses()

        // Clean pass: MLM and classification; their logit gradients are weighted now, backpropagated last.
        let hidden = try model.encoder.forward(batch, workspace: cleanWS)
        if let mlmLabels {
            losses.mlm = try mlm.forward(hidden: hidden, batch: batch, labels: mlmLabels, dropout: drop)
            losses.maskedTokens = mlm.logitRows
            Self.scale(mlm.logitGradient, by: o.mlmWeight)
        }
        losses.classification = try classifier.forward(hidden: hidden, batch: batch, labels: labels, dropout: drop)
        Self.scale(classifier.logitGradient, by: o.clsWeight)

        if o.vatWeight > 0 {
            let (ce, kl) = try aliceTerm(batch, labels: labels, dropout: drop, stepIndex: stepIndex, perturbation: perturbation)
            losses.adversarial = ce; losses.consistency = kl
        }
        losses.total = o.mlmWeight * losses.mlm + o.clsWeight * losses.classification + o.vatWeight * (losses.adversarial + losses.consistency)
        guard losses.total.isFinite else { return nil }

        gradWS.prepare(for: cleanWS)
        if o.clsWeight > 0 { classifier.backward(batch: batch, grads: grads, dHidden: gradWS.dHidden.data) }
        if mlmLabels != nil { mlm.backward(batch: batch, grads: grads, dHidden: gradWS.dHidden.data) }
        model.encoder.backward(batch, workspace: cleanWS, gradients: gradWS, into: grads)
        return losses
    }

    /// Alice++ on the clean pass's batch: finds δ (unless given), then adds vatWeight·∇[CE(x+δ) + KL(p ‖ p(x+δ))]
    /// into `grads`. Returns the two terms.
    private func aliceTerm(_ batch: TokenBatch, labels: [Int32], dropout: DropoutSpec?, stepIndex: Int,
                           perturbation: [Float]?) throws -> (Float, Float) {
        let h = model.config.hiddenSize, n = batch.batch * batch.seqLen * h, rows = batch.batch
        if delta.count != n { delta = Tensor(zeros: [n]) }
        cleanProbs = [Float](repeating: 0, count: rows * 2)
        VirtualAdversarial.softmax(classifier.logits.baseAddress!, rows: rows, classes: 2, into: &cleanProbs)
        perturbedWS.dropout = dropout
        if let perturbation {
            precondition(perturbation.count == n, "perturbation is not [tokens, H]")
            delta.data.update(from: perturbation, count: n)
        } else {
            // Power iteration: the KL's gradient at a small random probe points along its steepest ascent.
            VirtualAdversarial.randomProbe(delta.data, batch: batch, hidden: h, xi: options.vatXi,
                                           key: RandomSource.key(options.seed, UInt64(stepIndex), 3))
            let probed = try model.encoder.forward(batch, workspace: perturbedWS, inputPerturbation: delta.data)
            perturbedClassifier.computeLogits(hidden: probed, batch: batch, dropout: dropout)
            VirtualAdversarial.klDivergence(target: cleanProbs, logits: perturbedClassifier.logits.baseAddress!, rows: rows, classes: 2,
                                            weight: 1, dLogits: perturbedClassifier.logitGradient.baseAddress!)
            gradWS.prepare(for: perturbedWS)
            perturbedClassifier.backward(batch: batch, grads: nil, dHidden: gradWS.dHidden.data)
            model.encoder.backward(batch, workspace: perturbedWS, gradients: gradWS, into: grads, parameterGradients: false)
            delta.data.update(from: gradWS.inputGradient.data, count: n)
            VirtualAdversarial.normalize(delta.data, batch: batch, hidden: h, to: options.vatEpsilon)
        }
        let attacked = try model.encoder.forward(batch, workspace: perturbedWS, inputPerturbation: delta.data)
        let ce = try perturbedClassifier.forward(hidden: attacked, batch: batch, labels: labels, dropout: dropout)
        let kl = VirtualAdversarial.klDivergence(target: cleanProbs, logits: perturbedClassifier.logits.baseAddress!, rows: rows, classes: 2,
                                                 weight: 1, dLogits: perturbedClassifier.logitGradient.baseAddress!)
        guard (ce + kl).isFinite else { return (ce, kl) }
        Self.scale(perturbedClassifier.logitGradient, by: options.vatWeight)
        gradWS.prepare(for: perturbedWS)
        perturbedClassifier.backward(batch: batch, grads: grads, dHidden: gradWS.dHidden.data)
        model.encoder.backward(batch, workspace: perturbedWS, gradients: gradWS, into: grads)
        return (ce, kl)
    }

    private static func scale(_ g: UnsafeMutableBufferPointer<Float>, by w: Float) {
        if w != 1, g.count > 0 { BLAS.scale(g.count, w, g.baseAddress!) }
    }
}
