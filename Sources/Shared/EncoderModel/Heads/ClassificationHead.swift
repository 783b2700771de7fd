import Foundation
import Runtime
import Tokenizers

/// Sequence classification head: masked mean pooling, or BERT's [CLS] pooler (dense + tanh), then
/// dropout (training only) and `classifier` Linear(H, outputs), with softmax cross-entropy (labels 0..<n)
/// or binary cross-entropy with logits (one output). The `.clsPooler` + `.crossEntropy` layout is
/// transformers' BertForSequenceClassification, so its checkpoints load there.
public final class ClassificationHead: TrainingHead, @unchecked Sendable {
    /// How the sequence becomes one vector.
    public enum PoolingKind: Sendable { case mean, clsPooler }
    /// The loss over the logits.
    public enum Objective: Sendable { case crossEntropy, binaryCrossEntropy }

    public let config: BertConfig
    public let params: ParameterStore
    public let pooling: PoolingKind
    public let objective: Objective
    /// Logits per sequence: the class count for cross-entropy, 1 for binary cross-entropy.
    public let outputs: Int
    /// Dropout on the pooled vector in training mode (transformers: `hidden_dropout_prob` for the pooler head).
    public let dropoutRate: Float
    let wC, bC, wP, bP: Int

    // Activations of the last forward pass.
    private let cls = HeadBuffer(), pooled = HeadBuffer(), features = HeadBuffer()
    private let logitBuf = HeadBuffer(), dLogits = HeadBuffer(), dFeatures = HeadBuffer(), dCls = HeadBuffer()
    private let mask = DropoutMask()
    private var rows = 0
    private var dropped = false

    /// The head's own tensors (the pooler's belong to the encoder's specs: `EncoderNames.specs(c, pooler: true)`).
    public static func specs(hidden h: Int, outputs: Int) -> [(name: String, shape: [Int])] {
        [(HeadNames.classifierWeight, [outputs, h]), (HeadNames.classifierBias, [outputs])]
    }

    /// Whether the store must also hold `pooler.dense.*`.
    public var requiresPooler: Bool { pooling == .clsPooler }

    /// Binds to `params`, which must hold the classifier (and for `.clsPooler` the pooler) tensors.
    public init(config: BertConfig, params: ParameterStore, pooling: PoolingKind, objective: Objective,
                numLabels: Int = 2, dropout: Float? = nil) throws {
        self.config = config; self.params = params; self.pooling = pooling; self.objective = objective
        outputs = objective == .binaryCrossEntropy ? 1 : numLabels
        guard outputs >= 1, objective == .binaryCrossEntropy || numLabels >= 2 else {
            throw ModelError.incompatible("cross-entropy classification needs at least 2 labels, got \(numLabels)")
        }
        dropoutRate = dropout ?? (pooling == .clsPooler ? config.hiddenDropout : 0)
        let h = config.hiddenSize
        var need = Self.specs(hidden: h, outputs: outputs)
        if pooling == .clsPooler { need += [(EncoderNames.poolerWeight, [h, h]), (EncoderNames.poolerBias, [h])] }
        for (name, shape) in need {
            guard let s = params.slot(name) else { throw ModelError.incompatible("parameter store lacks head tensor '\(name)'") }
            guard s.shape == shape else { throw ModelError.incompatible("head tensor '\(name)' has shape \(s.shape), expected \(shape)") }
        }
        wC = params.offset(HeadNames.classifierWeight); bC = params.offset(HeadNames.classifierBias)
        wP = pooling == .clsPooler ? params.offset(EncoderNames.poolerWeight) : 0
        bP = pooling == .clsPooler ? params.offset(EncoderNames.poolerBias) : 0
    }

    public var logits: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: logitBuf.data, count: rows * outputs) }
    public var logitGradient: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: dLogits.data, count: rows * outputs) }
    public var logitRows: Int { rows }
    public var logitWidth: Int { outputs }

    /// Logits [batch, outputs] for `hidden` (the forward without a loss: inference, or VAT's consistency
    /// term); `logitGradient` is zeroed for the caller to fill.
    @discardableResult
    public func computeLogits(hidden: UnsafePointer<Float>, batch: TokenBatch, dropout: DropoutSpec? = nil) -> UnsafeBufferPointer<Float> {
        let b = batch.batch, t = batch.seqLen, h = config.hiddenSize, p = params.values.data
        rows = b
        let pool = pooled.reserve(b * h)
        switch pooling {
        case .mean:
            Pooling.mean(hidden, mask: batch.mask, batch: b, seqLen: t, hidden: h, into: pool)
        case .clsPooler:
            let c = cls.reserve(b * h)
            HeadPooling.gatherFirst(hidden, batch: b, seqLen: t, hidden: h, into: c)
            BLAS.linear(c, rows: b, inFeatures: h, weight: p + wP, bias: p + bP, outFeatures: h, into: pool)
            for i in 0..<(b * h) { pool[i] = tanhf(pool[i]) }
        }
        var feats = UnsafePointer(pool)
        dropped = false
        if let spec = dropout, dropoutRate > 0 {
            let f = features.reserve(b * h)
            f.update(from: pool, count: b * h)
            DropoutKernels.hidden(f, mask: mask, rows: b, seqLen: 1, width: h, rate: dropoutRate, spec: spec, site: .head, layer: 0)
            feats = UnsafePointer(f)
            dropped = true
        }
        let out = logitBuf.reserve(b * outputs)
        BLAS.linear(feats, rows: b, inFeatures: h, weight: p + wC, bias: p + bC, outFeatures: outputs, into: out)
        dLogits.reserve(b * outputs).update(repeating: 0, count: b * outputs)
        return logits
    }

    /// Labels per sequence: class ids (or -100 to ignore) for cross-entropy, 0/1 for binary cross-entropy.
    public func forward(hidden: UnsafePointer<Float>, batch: TokenBatch, labels: [Int32], dropout: DropoutSpec?) throws -> Float {
        guard labels.count == batch.batch else { throw ModelError.badInput("\(labels.count) labels for a batch of \(batch.batch)") }
        switch objective {
        case .crossEntropy:
            try Losses.validate(labels: labels, classes: outputs, what: "class")
            computeLogits(hidden: hidden, batch: batch, dropout: dropout)
            let d = dLogits.reserve(batch.batch * outputs)
            return labels.withUnsafeBufferPointer {
                Losses.softmaxCrossEntropy(logits: logitBuf.data, rows: batch.batch, classes: outputs, labels: $0.baseAddress!, dLogits: d).loss
            }
        case .binaryCrossEntropy:
            try Losses.validate(labels: labels, classes: 2, what: "binary")
            return try forward(hidden: hidden, batch: batch, targets: labels.map { Float($0) }, dropout: dropout)
        }
    }

    /// Binary cross-entropy against soft targets in [0, 1] (one per sequence).
    public func forward(hidden: UnsafePointer<Float>, batch: TokenBatch, targets: [Float], dropout: DropoutSpec?) throws -> Float {
        precondition(objective == .binaryCrossEntropy, "targets are for the binary cross-entropy head")
        guard targets.count == batch.batch else { throw ModelError.badInput("\(targets.count) targets for a batch of \(batch.batch)") }
        computeLogits(hidden: hidden, batch: batch, dropout: dropout)
        let d = dLogits.reserve(batch.batch)
        return targets.withUnsafeBufferPointer {
            Losses.binaryCrossEntropy(logits: logitBuf.data, targets: $0.baseAddress!, rows: batch.batch, dLogits: d)
        }
    }

    public func backward(batch: TokenBatch, grads: Tensor?, dHidden: UnsafeMutablePointer<Float>) {
        precondition(batch.batch == rows, "backward batch differs from the forward pass")
        let b = rows, t = batch.seqLen, h = config.hiddenSize, p = params.values.data
        func at(_ off: Int) -> UnsafeMutablePointer<Float>? { grads.map { $0.data + off } }
        let feats = dropped ? features.data : pooled.data
        let dF = dFeatures.reserve(b * h)
        BackwardKernels.linear(dY: dLogits.data, x: feats, rows: b, inFeatures: h, outFeatures: outputs, weight: p + wC,
                               dW: at(wC), dB: at(bC), dX: dF)
        if dropped { DropoutKernels.apply(dF, mask: mask.data, scale: 1 / (1 - dropoutRate), count: b * h) }
        switch pooling {
        case .mean:
            HeadPooling.meanBackward(dF, mask: batch.mask, batch: b, seqLen: t, hidden: h, into: dHidden)
        case .clsPooler:
            let y = pooled.data
            for i in 0..<(b * h) { dF[i] *= 1 - y[i] * y[i] }  // tanh'
            let dc = dCls.reserve(b * h)
            BackwardKernels.linear(dY: dF, x: cls.data, rows: b, inFeatures: h, outFeatures: h, weight: p + wP,
                                   dW: at(wP), dB: at(bP), dX: dc)
            HeadPooling.gatherFirstBackward(dc, batch: b, seqLen: t, hidden: h, into: dHidden)
        }
    }
}

extension ClassificationHead {
    /// Masked mean pooling → Linear(H, n) → cross-entropy (the paper's two-class TaskGuard head).
    public static func meanPoolCrossEntropy(config: BertConfig, params: ParameterStore, numLabels: Int = 2) throws -> ClassificationHead {
        try ClassificationHead(config: config, params: params, pooling: .mean, objective: .crossEntropy, numLabels: numLabels)
    }

    /// Masked mean pooling → Linear(H, 1) → binary cross-entropy with logits.
    public static func meanPoolBinary(config: BertConfig, params: ParameterStore) throws -> ClassificationHead {
        try ClassificationHead(config: config, params: params, pooling: .mean, objective: .binaryCrossEntropy)
    }

    /// transformers' BertForSequenceClassification: [CLS] → pooler dense + tanh → dropout → classifier → cross-entropy.
    public static func sequenceClassification(config: BertConfig, params: ParameterStore, numLabels: Int = 2) throws -> ClassificationHead {
        try ClassificationHead(config: config, params: params, pooling: .clsPooler, objective: .crossEntropy, numLabels: numLabels)
    }
}
