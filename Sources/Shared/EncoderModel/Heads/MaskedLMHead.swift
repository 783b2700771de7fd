import Runtime
import Tokenizers
/// transformers' BertForMaskedLM head: transform (dense + GELU + LayerNorm), then a decoder tied to
/// `embeddings.word_embeddings.weight` (its gradient adds into the word-embedding gradient) plus the separate
/// `cls.predictions.bias`. Loss: cross-entropy over tokens whose label is not -100. Only labelled positions
/// go through the head unless `allPositions` asks for every token's logits.
public final class MaskedLMHead: TrainingHead, @unchecked Sendable {
    public let config: BertConfig
    public let params: ParameterStore
    /// Compute logits for every token (inspection, tests), not just the labelled ones; the loss is the same.
    public var allPositions = false
    let wT, bT, lnG, lnB, bias, word: Int

    // Activations of the last forward pass, over the selected token rows.
    private let gathered = HeadBuffer(), pre = HeadBuffer(), act = HeadBuffer(), normed = HeadBuffer()
    private let mean = HeadBuffer(), rstd = HeadBuffer(), logitBuf = HeadBuffer(), dLogits = HeadBuffer()
    private let dNormed = HeadBuffer(), dGathered = HeadBuffer()
    /// Token index (into the batch's [tokens]) of each logits row.
    public private(set) var positions: [Int] = []

    /// The head's tensors; the decoder weight is the word embedding table, already in the encoder's specs.
    public static func specs(_ c: BertConfig) -> [(name: String, shape: [Int])] {
        let h = c.hiddenSize
        return [(HeadNames.mlmDenseWeight, [h, h]), (HeadNames.mlmDenseBias, [h]),
                (HeadNames.mlmLNWeight, [h]), (HeadNames.mlmLNBias, [h]), (HeadNames.mlmBias, [c.vocabSize])]
    }

    public init(config: BertConfig, params: ParameterStore) throws {
        self.config = config; self.params = params
        for (name, shape) in Self.specs(config) + [(EncoderNames.word, [config.vocabSize, config.hiddenSize])] {
            guard let s = params.slot(name) else { throw ModelError.incompatible("parameter store lacks MLM tensor '\(name)'") }
            guard s.shape == shape else { throw ModelError.incompatible("MLM tensor '\(name)' has shape \(s.shape), expected \(shape)") }
        }
        wT = params.offset(HeadNames.mlmDenseWeight); bT = params.offset(HeadNames.mlmDenseBias)
        lnG = params.offset(HeadNames.mlmLNWeight); lnB = params.offset(HeadNames.mlmLNBias)
        bias = params.offset(HeadNames.mlmBias); word = params.offset(EncoderNames.word)
    }

    public var logits: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: logitBuf.data, count: positions.count * config.vocabSize) }
    public var logitGradient: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: dLogits.data, count: positions.count * config.vocabSize)
    }
    public var logitRows: Int { positions.count }
    public var logitWidth: Int { config.vocabSize }

    /// `labels` per token [batch * seqLen]: the original id at masked positions, -100 elsewhere.
    /// The head has no dropout of its own (as transformers'), so `dropout` is unused.
    public func forward(hidden: UnsafePointer<Float>, batch: TokenBatch, labels: [Int32], dropout: DropoutSpec?) throws -> Float {
        let n = batch.batch * batch.seqLen, h = config.hiddenSize, v = config.vocabSize, p = params.values.data
        guard labels.count == n else { throw ModelError.badInput("\(labels.count) MLM labels for \(n) tokens") }
        try Losses.validate(labels: labels, classes: v, what: "MLM")
        positions = allPositions ? Array(0..<n) : labels.indices.filter { labels[$0] != Losses.ignoreIndex }
        let m = positions.count
        let x = gathered.reserve(m * h)
        for (i, r) in positions.enumerated() { (x + i * h).update(from: hidden + r * h, count: h) }
        let z = pre.reserve(m * h), a = act.reserve(m * h), y = normed.reserve(m * h)
        BLAS.linear(x, rows: m, inFeatures: h, weight: p + wT, bias: p + bT, outFeatures: h, into: z)
        Kernels.gelu(z, a, count: m * h)
        Kernels.layerNorm(a, y, rows: m, cols: h, gamma: p + lnG, beta: p + lnB, eps: config.layerNormEps,
                          mean: mean.reserve(m), rstd: rstd.reserve(m))
        let out = logitBuf.reserve(m * v)
        BLAS.linear(y, rows: m, inFeatures: h, weight: p + word, bias: p + bias, outFeatures: v, into: out)
        let rowLabels = positions.map { labels[$0] }
        let d = dLogits.reserve(m * v)
        return rowLabels.withUnsafeBufferPointer {
            Losses.softmaxCrossEntropy(logits: out, rows: m, classes: v, labels: $0.baseAddress!, dLogits: d).loss
        }
    }

    public func backward(batch: TokenBatch, grads: Tensor?, dHidden: UnsafeMutablePointer<Float>) {
        let m = positions.count, h = config.hiddenSize, v = config.vocabSize, p = params.values.data
        guard m > 0 else { return }
        func at(_ off: Int) -> UnsafeMutablePointer<Float>? { grads.map { $0.data + off } }
        // Tied decoder: its weight gradient lands in the word-embedding gradient.
        let dy = dNormed.reserve(m * h)
        BackwardKernels.linear(dY: dLogits.data, x: normed.data, rows: m, inFeatures: h, outFeatures: v, weight: p + word,
                               dW: at(word), dB: at(bias), dX: dy)
        BackwardKernels.layerNorm(dy: dy, x: act.data, mean: mean.data, rstd: rstd.data, gamma: p + lnG, rows: m, cols: h,
                                  dx: dy, dGamma: at(lnG), dBeta: at(lnB))
        BackwardKernels.gelu(dy: dy, x: pre.data, count: m * h)
        let dx = dGathered.reserve(m * h)
        BackwardKernels.linear(dY: dy, x: gathered.data, rows: m, inFeatures: h, outFeatures: h, weight: p + wT,
                               dW: at(wT), dB: at(bT), dX: dx)
        for (i, r) in positions.enumerated() { Kernels.add(dx + i * h, into: dHidden + r * h, count: h) }
    }
}
