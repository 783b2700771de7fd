import Foundation
import Runtime
import Tokenizers

/// A BERT-family transformer encoder over a ParameterStore (which may also hold head parameters).
public final class BertEncoder: @unchecked Sendable {
    public let config: BertConfig
    public let params: ParameterStore
    public let hasPooler: Bool
    let word, position, tokenType, embLNG, embLNB: Int
    let layers: [LayerOffsets]
    let poolerW, poolerB: Int

    /// Binds to `params`, which must hold every encoder tensor with the config's shapes.
    public init(config: BertConfig, params: ParameterStore) throws {
        self.config = config
        self.params = params
        hasPooler = params.contains(EncoderNames.poolerWeight)
        for (name, shape) in EncoderNames.specs(config, pooler: hasPooler) {
            guard let s = params.slot(name) else { throw ModelError.incompatible("parameter store lacks encoder tensor '\(name)'") }
            guard s.shape == shape else { throw ModelError.incompatible("tensor '\(name)' has shape \(s.shape), config expects \(shape)") }
        }
        word = params.offset(EncoderNames.word); position = params.offset(EncoderNames.position)
        tokenType = params.offset(EncoderNames.tokenType)
        embLNG = params.offset(EncoderNames.embLNWeight); embLNB = params.offset(EncoderNames.embLNBias)
        layers = try (0..<config.numLayers).map { try LayerOffsets(params, layer: $0, hidden: config.hiddenSize) }
        poolerW = hasPooler ? params.offset(EncoderNames.poolerWeight) : 0
        poolerB = hasPooler ? params.offset(EncoderNames.poolerBias) : 0
    }

    /// Checks ids and geometry before any work, so bad input is an error rather than a wild read.
    func validate(_ batch: TokenBatch) throws {
        guard batch.seqLen <= config.maxSequenceLength else {
            throw ModelError.badInput("sequence length \(batch.seqLen) exceeds the model's \(config.maxSequenceLength) positions; use a smaller --max-length")
        }
        guard batch.ids.count == batch.batch * batch.seqLen, batch.mask.count == batch.ids.count, batch.typeIds.count == batch.ids.count else {
            throw ModelError.badInput("token batch arrays do not match \(batch.batch) x \(batch.seqLen)")
        }
        for (i, id) in batch.ids.enumerated() where id < 0 || Int(id) >= config.vocabSize {
            throw ModelError.badInput("token id \(id) at position \(i) is outside the vocabulary (\(config.vocabSize)); tokenizer and model do not match")
        }
        for t in batch.typeIds where t < 0 || Int(t) >= config.typeVocabSize {
            throw ModelError.badInput("token type id \(t) is outside 0..<\(config.typeVocabSize)")
        }
    }

    /// Runs the encoder; returns the last hidden state [batch*seqLen, H] inside `ws`. Dropout applies when
    /// `ws.dropout` is set (training). `inputPerturbation` [batch*seqLen, H], when given, is added to the
    /// summed input embeddings before the embedding LayerNorm (virtual adversarial training perturbs there;
    /// backward's `inputGradient` is the loss gradient with respect to it).
    @discardableResult
    public func forward(_ batch: TokenBatch, workspace ws: EncoderWorkspace,
                        inputPerturbation: UnsafePointer<Float>? = nil) throws -> UnsafeMutablePointer<Float> {
        try validate(batch)
        let b = batch.batch, t = batch.seqLen, n = b * t, h = config.hiddenSize
        ws.reserve(batch: b, seqLen: t)
        ws.batch = b; ws.seqLen = t
        ws.appliedDropout = ws.dropout?.isActive == true ? ws.dropout : nil
        ws.setMask(batch.mask, batch: b, seqLen: t)
        let p = params.values.data
        // Embeddings: word + position + token type, then LayerNorm. Position rows follow the model family's
        // scheme (RoBERTa's start after the pad id), kept in `ws` for backward.
        ws.positionIds.removeAll(keepingCapacity: true)
        ws.positionIds.append(contentsOf: repeatElement(0, count: n))
        ws.positionIds.withUnsafeMutableBufferPointer { PositionIds.fill(batch, config: config, into: $0.baseAddress!) }
        let emb = ws.embSum.data
        batch.ids.withUnsafeBufferPointer { ids in
            batch.typeIds.withUnsafeBufferPointer { types in
                ws.positionIds.withUnsafeBufferPointer { pos in
                    for r in 0..<n {
                        let dst = emb + r * h
                        dst.update(from: p + word + Int(ids[r]) * h, count: h)
                        Kernels.add(p + position + Int(pos[r]) * h, into: dst, count: h)
                        Kernels.add(p + tokenType + Int(types[r]) * h, into: dst, count: h)
                    }
                }
            }
        }
        if let inputPerturbation { Kernels.add(inputPerturbation, into: emb, count: n * h) }
        Kernels.layerNorm(emb, ws.embOut.data, rows: n, cols: h, gamma: p + embLNG, beta: p + embLNB,
                          eps: config.layerNormEps, mean: ws.embMean.data, rstd: ws.embRstd.data)
        ws.dropHidden(ws.embOut.data, mask: ws.embMask, site: .embeddings, layer: 0)
        var x = UnsafePointer(ws.embOut.data)
        try batch.mask.withUnsafeBufferPointer { mask in
            for l in 0..<config.numLayers {
                let a = ws.activations(layer: l)
                try layerForward(l, input: x, acts: a, ws: ws, mask: mask.baseAddress!)
                x = UnsafePointer(a.out.data)
            }
        }
        return ws.lastHidden
    }

    private func layerForward(_ l: Int, input x: UnsafePointer<Float>, acts a: LayerActivations, ws: EncoderWorkspace,
                              mask: UnsafePointer<Float>) throws {
        let o = layers[l], p = params.values.data
        let b = ws.batch, t = ws.seqLen, n = b * t, h = config.hiddenSize, inter = config.intermediateSize
        // Q, K and V in one [n, 3H] product: one weight read and one OpenBLAS dispatch instead of three.
        BLAS.linear(x, rows: n, inFeatures: h, weight: p + o.qkvW, bias: p + o.qkvB, outFeatures: 3 * h, into: a.qkv.data)
        attention(l, acts: a, ws: ws, mask: mask)
        // Dense outputs: with hidden dropout the bias must precede the dropout (inside the GEMM); without it, the
        // bias joins the residual add and LayerNorm pass.
        let dropping = ws.appliedDropout.map { $0.hidden > 0 } ?? false
        BLAS.linear(a.ctx.data, rows: n, inFeatures: h, weight: p + o.aoW, bias: dropping ? p + o.aoB : nil, outFeatures: h, into: a.attnSum.data)
        ws.dropHidden(a.attnSum.data, mask: a.attnOutMask, site: .attentionOutput, layer: l)
        Kernels.biasResidualLayerNorm(a.attnSum.data, bias: dropping ? nil : p + o.aoB, residual: x, a.x1.data, rows: n, cols: h,
                                      gamma: p + o.ln1G, beta: p + o.ln1B, eps: config.layerNormEps, mean: a.ln1Mean.data, rstd: a.ln1Rstd.data)
        BLAS.linear(a.x1.data, rows: n, inFeatures: h, weight: p + o.iW, bias: nil, outFeatures: inter, into: a.ffnPre.data)
        Kernels.biasGelu(a.ffnPre.data, bias: p + o.iB, a.ffnAct.data, rows: n, cols: inter)
        BLAS.linear(a.ffnAct.data, rows: n, inFeatures: inter, weight: p + o.oW, bias: dropping ? p + o.oB : nil, outFeatures: h, into: a.ffnSum.data)
        ws.dropHidden(a.ffnSum.data, mask: a.ffnOutMask, site: .ffnOutput, layer: l)
        // In inference `out` may alias the input `x`: x was last read by the first residual above.
        Kernels.biasResidualLayerNorm(a.ffnSum.data, bias: dropping ? nil : p + o.oB, residual: a.x1.data, a.out.data, rows: n, cols: h,
                                      gamma: p + o.ln2G, beta: p + o.ln2B, eps: config.layerNormEps, mean: a.ln2Mean.data, rstd: a.ln2Rstd.data)
    }

    /// Scaled dot-product attention per (sequence, head); keys past a row's last real token are skipped,
    /// masked keys inside it get probability ~0, exactly as an additive -inf mask would. With attention
    /// dropout, `probs` keeps the undropped softmax (backward needs it) and the product uses a dropped copy.
    /// The (sequence, head) blocks are spread over our threads with OpenBLAS held to one thread each.
    private func attention(_ l: Int, acts a: LayerActivations, ws: EncoderWorkspace, mask: UnsafePointer<Float>) {
        let b = ws.batch, t = ws.seqLen, h = config.hiddenSize, nh = config.numHeads, d = config.headDim
        let scale = 1 / Float(d).squareRoot()
        let q = a.qkv.data, k = q + h, v = q + 2 * h, ld = 3 * h, ctx = a.ctx.data, probs = a.probs.data
        let keyLengths = ws.keyLengths, maskBias = UnsafePointer(ws.maskBias.data)
        let drop = ws.appliedDropout.flatMap { $0.attention > 0 ? $0 : nil }
        if drop != nil { a.probsMask.reserve(b * nh * t * t) }
        let keep = a.probsMask.data
        let dropped = ws.attentionScratch(blocks: Parallel.threads, seqLen: t)
        BLAS.singleThreaded {
            Parallel.forChunks(b * nh) { chunk, range in
                let scratch = dropped + chunk * t * t
                for pair in range {
                    let r = pair / nh, head = pair % nh
                    let lk = keyLengths[r]
                    let base = r * t * ld + head * d, out = r * t * h + head * d
                    let s = probs + pair * t * t
                    BLAS.gemm(transB: true, m: t, n: lk, k: d, alpha: scale, a: q + base, lda: ld, b: k + base, ldb: ld, c: s, ldc: t)
                    let bias = maskBias + r * t
                    for i in 0..<t { Kernels.maskedSoftmaxRow(s + i * t, bias: bias, valid: lk, total: t) }
                    var pv = UnsafePointer(s)
                    if let drop {
                        let rate = drop.attention
                        DropoutKernels.drawApplyAttention(s, mask: keep + pair * t * t, into: scratch, rows: t, valid: lk, stride: t,
                                                          key: DropoutKernels.attentionKey(drop, layer: l, row: r, head: head),
                                                          threshold: DropoutKernels.threshold(rate), scale: 1 / (1 - rate))
                        pv = UnsafePointer(scratch)
                    }
                    BLAS.gemm(m: t, n: d, k: lk, a: pv, lda: t, b: v + base, ldb: ld, c: ctx + out, ldc: h)
                }
            }
        }
    }

    /// BERT's pooler: tanh(W · hidden[CLS] + b) per row, into out [batch, H]. Requires `hasPooler`.
    public func pool(_ hidden: UnsafePointer<Float>, batch b: Int, seqLen t: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(hasPooler, "model has no pooler weights")
        let h = config.hiddenSize, p = params.values.data
        let cls = UnsafeMutablePointer<Float>.allocate(capacity: b * h)
        defer { cls.deallocate() }
        for r in 0..<b { (cls + r * h).update(from: hidden + r * t * h, count: h) }
        BLAS.linear(cls, rows: b, inFeatures: h, weight: p + poolerW, bias: p + poolerB, outFeatures: h, into: out)
        for i in 0..<(b * h) { out[i] = tanhf(out[i]) }
    }
}
