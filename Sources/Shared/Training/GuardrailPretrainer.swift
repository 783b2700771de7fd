import EncoderModel
import Foundation
import Guards
import Runtime
import Tokenizers

/// Guardrail-instruction pretraining (the paper's MultiTaskGuard recipe): each step takes instruction-formatted
/// inputs with their verdicts and minimises a·MLM + b·Alice++ + c·classification.
///
/// One step, in order:
/// 1. dynamic masking (when a > 0);
/// 2. clean forward → MLM loss (tied decoder) and classification loss; p = softmax(clean logits) is kept
///    as a constant (VAT's stop-gradient). With `clsOnUnmasked` (default) the MLM reads a pass over the masked
///    sequence and classification + Alice++ a second pass over the unmasked one, the input inference sees;
///    without it one masked pass serves all three terms (cheaper, but the classifier then trains on masked
///    inputs only: see README "MultiTaskGuard pretraining" for what that costs zero-shot);
/// 3. Alice++ (when b > 0): a random probe δ₀ of size ξ; forward at x+δ₀, backward of KL(p ‖ p(x+δ₀)) to the
///    input embeddings only: one power-iteration step gives the adversarial direction g, and δ = ε·g/‖g‖;
///    forward at x+δ, loss CE(y, p(x+δ)) + KL(p ‖ p(x+δ)), backward into the parameter gradients;
/// 4. backward of the clean terms, clipping, AdamW.
/// With `classBalance` (default) the gold-label terms (classification, adversarial CE) weigh each row by
/// `BatchClassWeights` of the global batch, so the classes count equally whatever the corpus's balance.
/// All passes share one dropout mask set (counter-based), so the KL measures the perturbation only.
///
/// Data-parallel: each rank computes its rows of the global batch; every term's gradient is scaled by the
/// rank's share (rows/batch for the per-row means, masked tokens/all masked tokens for MLM, that count
/// summed over the ranks first) so the ranks' gradients sum to the global batch's.
public final class GuardrailPretrainer {
    public let model: MultiTaskGuard
    public let options: PretrainOptions
    public let optimizer: AdamW
    /// Who else computes rows of each step (the MLM token count is summed over them).
    public let reducer: any GradientReducer
    let grads: Tensor
    private let mlm: MaskedLMHead
    private let classifier: ClassificationHead, perturbedClassifier: ClassificationHead
    private let cleanWS: EncoderWorkspace
    private lazy var perturbedWS = EncoderWorkspace(config: model.config, training: true)
    /// The MLM's pass over the masked batch when the classifier reads the unmasked one (`clsOnUnmasked`).
    private lazy var maskedWS = EncoderWorkspace(config: model.config, training: true)
    private let gradWS: EncoderGradientWorkspace
    private var delta = Tensor(zeros: [0])
    private var cleanProbs: [Float] = []
    private let masking: DynamicMasking
    /// This step's class weights (`classBalance`), for the classification and adversarial CE terms.
    public private(set) var classWeights = BatchClassWeights.unweighted

    /// The last step's inputs after masking, MLM labels, perturbation and clean probabilities (for tests).
    public private(set) var lastBatch: TokenBatch?
    public private(set) var lastMLMLabels: [Int32]?
    /// The last step's input to the classification and Alice++ terms (the unmasked batch with `clsOnUnmasked`).
    public private(set) var lastClassificationBatch: TokenBatch?
    public var lastPerturbation: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: delta.data, count: delta.count) }
    public var lastCleanProbabilities: [Float] { cleanProbs }

    public init(model: MultiTaskGuard, options: PretrainOptions, reducer: any GradientReducer = SingleProcessReducer()) throws {
        self.model = model; self.options = options; self.reducer = reducer
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
    /// Returns nil and applies nothing when the loss or the gradient norm is not finite. One process only:
    /// `PretrainRun` drives data-parallel steps (the ranks must agree on skips and sum the gradients).
    public func step(_ encodings: [Encoding], labels: [Int32], stepIndex: Int, firstRow: Int, lr: Float) throws -> PretrainLosses? {
        precondition(reducer.worldSize == 1, "GuardrailPretrainer.step is the one-process step; PretrainRun runs data-parallel steps")
        defer { grads.fill(0) }
        guard let losses = try gradients(encodings, labels: labels, stepIndex: stepIndex, firstRow: firstRow) else { return nil }
        let norm = GradClip.clip(grads, maxNorm: options.maxGradNorm)
        guard norm.isFinite else { return nil }
        optimizer.step(grads: grads, lr: lr)
        return losses
    }

    /// Computes the losses and adds their gradients into `grads` (no update). Nil when the loss is not finite.
    /// `perturbation` replaces Alice++'s power-iteration direction (finite-difference tests hold δ fixed).
    ///
    /// Data-parallel: `encodings` are rows `batchRow ..< batchRow + count` of the step's global batch of
    /// `globalRows` (default: this batch is the whole of it), `firstRow` the run row of the first. The losses
    /// returned are this rank's shares of the global means (they sum over the ranks to the global losses) and
    /// `maskedTokens` is the global count. A rank with no rows returns zero shares but still joins the count's
    /// reduce, as every rank must.
    public func gradients(_ encodings: [Encoding], labels: [Int32], stepIndex: Int, firstRow: Int, batchRow: Int = 0,
                          globalRows: Int? = nil, perturbation: [Float]? = nil) throws -> PretrainLosses? {
        let o = options, c = model.config, tok = model.tokenizer
        let global = globalRows ?? encodings.count
        guard encodings.count == labels.count, global > 0, batchRow >= 0, batchRow + encodings.count <= global else {
            throw ModelError.badInput("\(encodings.count) inputs for \(labels.count) labels, rows \(batchRow)... of a batch of \(global)")
        }
        guard !encodings.isEmpty else {
            var losses = PretrainLosses()
            losses.maskedTokens = try globalCounts(masked: 0, unsafe: 0).masked
            return losses
        }
        // Fraction of the global batch's rows this rank holds: 1 in one process (scaling by it is then exact).
        let share = Float(encodings.count) / Float(global)
        let unmasked = TokenBatch.padded(encodings, pad: tok.special.pad)
        var batch = unmasked
        var mlmLabels: [Int32]?
        var mlmShare: Float = 1, localMasked = 0
        if o.mlmWeight > 0 {
            let m = masking.apply(to: unmasked, special: tok.special, vocabSize: c.vocabSize,
                                  key: RandomSource.key(o.seed, UInt64(stepIndex), 1), firstRow: firstRow)
            batch = m.batch
            localMasked = m.labels.reduce(0) { $0 + ($1 != Losses.ignoreIndex ? 1 : 0) }
            if localMasked > 0 { mlmLabels = m.labels }
        }
        let counts = try globalCounts(masked: localMasked, unsafe: labels.reduce(0) { $0 + ($1 == 1 ? 1 : 0) })
        let globalMasked = counts.masked
        if globalMasked != localMasked, localMasked > 0 { mlmShare = Float(localMasked) / Float(globalMasked) }
        classWeights = o.classBalance ? BatchClassWeights(unsafeRows: counts.unsafe, rows: global) : .unweighted
        // What the classifier and Alice++ read: the unmasked sequence (as at inference) or the masked one.
        let separate = o.clsOnUnmasked && mlmLabels != nil
        let clsBatch = o.clsOnUnmasked ? unmasked : batch
        lastBatch = batch; lastClassificationBatch = clsBatch; lastMLMLabels = mlmLabels
        let drop = o.dropout ? DropoutSpec(config: c, seed: RandomSource.key(o.seed, UInt64(stepIndex), 2), firstRow: firstRow) : nil
        cleanWS.dropout = drop
        var losses = PretrainLosses()

        // Clean pass(es): MLM and classification; their logit gradients are weighted now, backpropagated last.
        // With `clsOnUnmasked` the MLM reads its own pass over the masked batch (same dropout masks).
        if separate { maskedWS.dropout = drop }
        var hidden = try model.encoder.forward(batch, workspace: separate ? maskedWS : cleanWS)
        if let mlmLabels {
            losses.mlm = try mlm.forward(hidden: hidden, batch: batch, labels: mlmLabels, dropout: drop) * mlmShare
            Self.scale(mlm.logitGradient, by: o.mlmWeight * mlmShare)
        }
        losses.maskedTokens = globalMasked
        if separate { hidden = try model.encoder.forward(clsBatch, workspace: cleanWS) }
        losses.classification = try classifier.forward(hidden: hidden, batch: clsBatch, labels: labels, dropout: drop) * share
        if classWeights != .unweighted {
            losses.classification = classWeights.reweight(logits: classifier.logits.baseAddress!, labels: labels, classes: 2,
                                                          dLogits: classifier.logitGradient.baseAddress!) * share
        }
        Self.scale(classifier.logitGradient, by: o.clsWeight * share)

        if o.vatWeight > 0 {
            let (ce, kl) = try aliceTerm(clsBatch, labels: labels, dropout: drop, stepIndex: stepIndex, batchRow: batchRow, share: share,
                                         perturbation: perturbation)
            losses.adversarial = ce * share; losses.consistency = kl * share
        }
        losses.total = o.mlmWeight * losses.mlm + o.clsWeight * losses.classification + o.vatWeight * (losses.adversarial + losses.consistency)
        guard losses.total.isFinite else { return nil }

        if o.clsWeight > 0 || (mlmLabels != nil && !separate) {
            gradWS.prepare(for: cleanWS)
            if o.clsWeight > 0 { classifier.backward(batch: clsBatch, grads: grads, dHidden: gradWS.dHidden.data) }
            if mlmLabels != nil, !separate { mlm.backward(batch: batch, grads: grads, dHidden: gradWS.dHidden.data) }
            model.encoder.backward(clsBatch, workspace: cleanWS, gradients: gradWS, into: grads)
        }
        if separate {
            gradWS.prepare(for: maskedWS)
            mlm.backward(batch: batch, grads: grads, dHidden: gradWS.dHidden.data)
            model.encoder.backward(batch, workspace: maskedWS, gradients: gradWS, into: grads)
        }
        return losses
    }

    /// The MLM's masked tokens (the MLM mean's denominator) and the unsafe rows (`classBalance`'s weights) over
    /// every rank's rows of this step: one reduce, made by every rank whenever either is in use.
    private func globalCounts(masked: Int, unsafe: Int) throws -> (masked: Int, unsafe: Int) {
        guard reducer.worldSize > 1, options.mlmWeight > 0 || options.classBalance else { return (masked, unsafe) }
        // Float counts are exact up to 2^24 per step.
        var n: [Float] = [Float(masked), Float(unsafe)]
        try reducer.sum(&n)
        return (Int(n[0]), Int(n[1]))
    }

    /// Alice++ on the clean pass's batch: finds δ (unless given), then adds share·vatWeight·∇[CE(x+δ) + KL(p ‖ p(x+δ))]
    /// into `grads`. Returns the two terms (means over these rows). The probe is keyed by each row's place in
    /// the step's global batch (`batchRow` + local index), so it does not depend on how the batch is split.
    private func aliceTerm(_ batch: TokenBatch, labels: [Int32], dropout: DropoutSpec?, stepIndex: Int, batchRow: Int, share: Float,
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
                                           key: RandomSource.key(options.seed, UInt64(stepIndex), 3), firstRow: batchRow)
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
        var ce = try perturbedClassifier.forward(hidden: attacked, batch: batch, labels: labels, dropout: dropout)
        if classWeights != .unweighted {
            ce = classWeights.reweight(logits: perturbedClassifier.logits.baseAddress!, labels: labels, classes: 2,
                                       dLogits: perturbedClassifier.logitGradient.baseAddress!)
        }
        let kl = VirtualAdversarial.klDivergence(target: cleanProbs, logits: perturbedClassifier.logits.baseAddress!, rows: rows, classes: 2,
                                                 weight: 1, dLogits: perturbedClassifier.logitGradient.baseAddress!)
        guard (ce + kl).isFinite else { return (ce, kl) }
        Self.scale(perturbedClassifier.logitGradient, by: options.vatWeight * share)
        gradWS.prepare(for: perturbedWS)
        perturbedClassifier.backward(batch: batch, grads: grads, dHidden: gradWS.dHidden.data)
        model.encoder.backward(batch, workspace: perturbedWS, gradients: gradWS, into: grads)
        return (ce, kl)
    }

    private static func scale(_ g: UnsafeMutableBufferPointer<Float>, by w: Float) {
        if w != 1, g.count > 0 { BLAS.scale(g.count, w, g.baseAddress!) }
    }
}
