/// One layer's saved activations. Training keeps one per layer for the backward pass; inference reuses one.
public final class LayerActivations: @unchecked Sendable {
    /// [tokens, 3H]: each token's query, key and value side by side (one GEMM writes them).
    public let qkv: Tensor
    public let ctx: Tensor                   // [tokens, H]
    public let probs: Tensor                 // [B, heads, T, T] softmax output
    public let attnSum, x1: Tensor           // attention output + residual (pre-LN1), LN1 output
    /// [tokens, I] before and after GELU. In training every layer shares one `ffnAct` (backward recomputes
    /// GELU from `ffnPre`): that saves a [tokens, I] buffer per layer, the largest activation there is.
    public let ffnPre, ffnAct: Tensor
    public let ffnSum, out: Tensor           // FFN output + residual (pre-LN2), LN2 output = the layer's output
    public let ln1Mean, ln1Rstd, ln2Mean, ln2Rstd: Tensor  // [tokens]
    /// Dropout keep flags of the last training forward (empty until dropout is used).
    public let probsMask = DropoutMask(), attnOutMask = DropoutMask(), ffnOutMask = DropoutMask()

    init(tokens n: Int, probs p: Int, hidden h: Int, intermediate i: Int, sharedFfnAct: Tensor? = nil) {
        qkv = Tensor(zeros: [n, 3 * h]); ctx = Tensor(zeros: [n, h])
        probs = Tensor(zeros: [p])
        attnSum = Tensor(zeros: [n, h]); x1 = Tensor(zeros: [n, h])
        ffnPre = Tensor(zeros: [n, i]); ffnAct = sharedFfnAct ?? Tensor(zeros: [n, i])
        ffnSum = Tensor(zeros: [n, h]); out = Tensor(zeros: [n, h])
        ln1Mean = Tensor(zeros: [n]); ln1Rstd = Tensor(zeros: [n]); ln2Mean = Tensor(zeros: [n]); ln2Rstd = Tensor(zeros: [n])
    }
}

/// Activation buffers for encoder passes, grown on demand and reused across batches.
public final class EncoderWorkspace: @unchecked Sendable {
    public let config: BertConfig
    /// Keep every layer's activations (needed by backward) rather than one shared set.
    public let keepsAllLayers: Bool
    public private(set) var tokenCapacity = 0
    public private(set) var probCapacity = 0
    public private(set) var embSum = Tensor(zeros: [0])
    public private(set) var embOut = Tensor(zeros: [0])
    public private(set) var embMean = Tensor(zeros: [0])
    public private(set) var embRstd = Tensor(zeros: [0])
    public private(set) var layers: [LayerActivations] = []
    /// Training-mode dropout for the next forward passes; nil (the default) is eval mode.
    public var dropout: DropoutSpec?
    /// The dropout the last forward pass applied (nil when none); backward replays its masks.
    public internal(set) var appliedDropout: DropoutSpec?
    /// Keep flags of the embedding dropout.
    public let embMask = DropoutMask()
    /// Batch geometry of the last forward pass.
    public internal(set) var batch = 0, seqLen = 0
    /// Per row: one past the last real token (keys beyond it are padding and skipped).
    public internal(set) var keyLengths: [Int] = []
    /// Per token of the last forward pass: the position-embedding row it read (`PositionIds`); backward
    /// scatters the position gradient to the same rows.
    public internal(set) var positionIds: [Int32] = []

    /// Per token of the last batch: 0 for a real key, a huge negative for a padded one (added before softmax).
    public private(set) var maskBias = Tensor(zeros: [0])
    /// Per-thread [seqLen, seqLen] blocks for dropped attention probabilities (grown on demand).
    private var scratch = Tensor(zeros: [0])

    /// Records the batch's attention mask as key lengths and additive biases (no per-call allocation once grown).
    func setMask(_ mask: [Float], batch b: Int, seqLen t: Int) {
        if keyLengths.count != b { keyLengths = Array(repeating: 1, count: b) }
        if maskBias.count < b * t { maskBias = Tensor(zeros: [b * t]) }
        let mb = maskBias.data
        mask.withUnsafeBufferPointer { m in
            for r in 0..<b {
                var last = 0
                for c in 0..<t {
                    let real = m[r * t + c] != 0
                    if real { last = c + 1 }
                    mb[r * t + c] = real ? 0 : -Float.greatestFiniteMagnitude
                }
                keyLengths[r] = max(last, 1)
            }
        }
    }

    /// `blocks` scratch blocks of seqLen² floats, contiguous.
    func attentionScratch(blocks: Int, seqLen t: Int) -> UnsafeMutablePointer<Float> {
        if scratch.count < blocks * t * t { scratch = Tensor(zeros: [blocks * t * t]) }
        return scratch.data
    }

    public init(config: BertConfig, training: Bool) {
        self.config = config
        keepsAllLayers = training
    }

    /// Makes sure buffers hold `batch` x `seqLen` tokens.
    public func reserve(batch b: Int, seqLen t: Int) {
        let n = b * t, p = b * config.numHeads * t * t
        guard n > tokenCapacity || p > probCapacity else { return }
        tokenCapacity = max(n, tokenCapacity); probCapacity = max(p, probCapacity)
        let h = config.hiddenSize
        embSum = Tensor(zeros: [tokenCapacity, h]); embOut = Tensor(zeros: [tokenCapacity, h])
        embMean = Tensor(zeros: [tokenCapacity]); embRstd = Tensor(zeros: [tokenCapacity])
        let shared = Tensor(zeros: [tokenCapacity, config.intermediateSize])
        layers = (0..<(keepsAllLayers ? config.numLayers : 1)).map { _ in
            LayerActivations(tokens: tokenCapacity, probs: probCapacity, hidden: h, intermediate: config.intermediateSize,
                             sharedFfnAct: shared)
        }
    }

    /// The buffers layer `l` writes.
    public func activations(layer l: Int) -> LayerActivations { layers[keepsAllLayers ? l : 0] }

    /// Output of the last layer, [tokens, H].
    public var lastHidden: UnsafeMutablePointer<Float> { activations(layer: config.numLayers - 1).out.data }
}
