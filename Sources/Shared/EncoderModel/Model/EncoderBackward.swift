import Tokenizers
/// Gradient buffers of the encoder backward pass, grown on demand and reused across steps (one per thread).
public final class EncoderGradientWorkspace: @unchecked Sendable {
    public let config: BertConfig
    public private(set) var tokenCapacity = 0
    public private(set) var probCapacity = 0
    /// dL/d(last hidden) [tokens, H]: heads add into it after `prepare`; backward then uses it as scratch.
    public private(set) var dHidden = Tensor(zeros: [0])
    /// After backward: dL/d(input embeddings) [tokens, H], i.e. with respect to the summed word + position +
    /// token-type embeddings (and any `inputPerturbation`) entering the embedding LayerNorm.
    public private(set) var inputGradient = Tensor(zeros: [0])
    var dTmp = Tensor(zeros: [0]), dFfn = Tensor(zeros: [0]), dCtx = Tensor(zeros: [0])
    /// dL/d(Q, K, V) [tokens, 3H], laid out like `LayerActivations.qkv`.
    var dQKV = Tensor(zeros: [0])
    var dProbs = Tensor(zeros: [0])

    public init(config: BertConfig) { self.config = config }

    /// Sizes the buffers for the batch of `ws`'s last forward pass and zeroes `dHidden` for the heads.
    public func prepare(for ws: EncoderWorkspace) {
        let n = ws.batch * ws.seqLen, p = ws.batch * config.numHeads * ws.seqLen * ws.seqLen
        if n > tokenCapacity || p > probCapacity {
            tokenCapacity = max(n, tokenCapacity); probCapacity = max(p, probCapacity)
            let h = config.hiddenSize
            for t in [\EncoderGradientWorkspace.dHidden, \.inputGradient, \.dTmp, \.dCtx] as [ReferenceWritableKeyPath<EncoderGradientWorkspace, Tensor>] {
                self[keyPath: t] = Tensor(zeros: [tokenCapacity, h])
            }
            dQKV = Tensor(zeros: [tokenCapacity, 3 * h])
            dFfn = Tensor(zeros: [tokenCapacity, config.intermediateSize])
            dProbs = Tensor(zeros: [probCapacity])
        }
        dHidden.data.update(repeating: 0, count: n * config.hiddenSize)
    }
}

extension BertEncoder {
    /// Backpropagates `g.dHidden` (dL/d last hidden, filled by the heads after `g.prepare(for: ws)`) through
    /// the training forward pass recorded in `ws` (same `batch`), layer by layer in reverse. Adds every encoder
    /// parameter's gradient into `grads` (laid out like `params.values`; the pooler is the head's business)
    /// and leaves dL/d(input embeddings) in `g.inputGradient`. `parameterGradients: false` skips the weight
    /// gradients and computes only the input gradient (VAT's adversarial direction).
    public func backward(_ batch: TokenBatch, workspace ws: EncoderWorkspace, gradients g: EncoderGradientWorkspace,
                         into grads: Tensor, parameterGradients: Bool = true) {
        precondition(ws.keepsAllLayers, "backward needs a training workspace (EncoderWorkspace(training: true))")
        precondition(ws.batch == batch.batch && ws.seqLen == batch.seqLen, "backward batch differs from the forward pass")
        precondition(grads.count == params.count, "gradient buffer is not laid out like the parameters")
        precondition(g.tokenCapacity >= batch.batch * batch.seqLen, "call gradients.prepare(for:) before the heads' backward")
        let gr: UnsafeMutablePointer<Float>? = parameterGradients ? grads.data : nil
        let drop = ws.appliedDropout
        for l in stride(from: config.numLayers - 1, through: 0, by: -1) {
            let input = l == 0 ? ws.embOut.data : ws.activations(layer: l - 1).out.data
            layerBackward(l, input: input, acts: ws.activations(layer: l), ws: ws, g: g, grads: gr, dropout: drop)
        }
        embeddingsBackward(batch, ws: ws, g: g, grads: gr, dropout: drop)
    }

    /// One transformer layer in reverse; `g.dHidden` holds dL/d(layer output) on entry, dL/d(layer input) on exit.
    private func layerBackward(_ l: Int, input x: UnsafePointer<Float>, acts a: LayerActivations, ws: EncoderWorkspace,
                               g: EncoderGradientWorkspace, grads gr: UnsafeMutablePointer<Float>?, dropout: DropoutSpec?) {
        let o = layers[l], p = params.values.data
        let n = ws.batch * ws.seqLen, h = config.hiddenSize, inter = config.intermediateSize
        let dH = g.dHidden.data
        func at(_ off: Int) -> UnsafeMutablePointer<Float>? { gr.map { $0 + off } }
        // LN2: dH becomes dL/d(ffn dense out + residual).
        BackwardKernels.layerNorm(dy: dH, x: a.ffnSum.data, mean: a.ln2Mean.data, rstd: a.ln2Rstd.data, gamma: p + o.ln2G,
                                  rows: n, cols: h, dx: dH, dGamma: at(o.ln2G), dBeta: at(o.ln2B))
        // FFN output dense (behind its dropout); dH itself stays as the residual's gradient.
        let dOut = hiddenDropoutGrad(dH, mask: a.ffnOutMask, dropout: dropout, n: n, g: g)
        // Layers share one GELU output buffer (EncoderWorkspace), so this layer's is recomputed here.
        Kernels.gelu(a.ffnPre.data, a.ffnAct.data, count: n * inter)
        BackwardKernels.linear(dY: dOut, x: a.ffnAct.data, rows: n, inFeatures: inter, outFeatures: h, weight: p + o.oW,
                               dW: at(o.oW), dB: at(o.oB), dX: g.dFfn.data)
        BackwardKernels.gelu(dy: g.dFfn.data, x: a.ffnPre.data, count: n * inter)
        BackwardKernels.linear(dY: g.dFfn.data, x: a.x1.data, rows: n, inFeatures: h, outFeatures: inter, weight: p + o.iW,
                               dW: at(o.iW), dB: at(o.iB), dX: dH, accumulate: true)
        // LN1: dH becomes dL/d(attention dense out + residual).
        BackwardKernels.layerNorm(dy: dH, x: a.attnSum.data, mean: a.ln1Mean.data, rstd: a.ln1Rstd.data, gamma: p + o.ln1G,
                                  rows: n, cols: h, dx: dH, dGamma: at(o.ln1G), dBeta: at(o.ln1B))
        let dAttn = hiddenDropoutGrad(dH, mask: a.attnOutMask, dropout: dropout, n: n, g: g)
        BackwardKernels.linear(dY: dAttn, x: a.ctx.data, rows: n, inFeatures: h, outFeatures: h, weight: p + o.aoW,
                               dW: at(o.aoW), dB: at(o.aoB), dX: g.dCtx.data)
        attentionBackward(l, acts: a, ws: ws, g: g, dropout: dropout)
        // The packed Q, K, V projection; its input gradient adds onto the residual's.
        BackwardKernels.linear(dY: g.dQKV.data, x: x, rows: n, inFeatures: h, outFeatures: 3 * h, weight: p + o.qkvW,
                               dW: at(o.qkvW), dB: at(o.qkvB), dX: dH, accumulate: true)
    }

    /// The gradient entering a dense layer whose output went through hidden dropout: dH ∘ mask / (1 − p) in
    /// `g.dTmp`, or dH itself when the pass had no hidden dropout.
    private func hiddenDropoutGrad(_ dH: UnsafeMutablePointer<Float>, mask: DropoutMask, dropout: DropoutSpec?, n: Int,
                                   g: EncoderGradientWorkspace) -> UnsafeMutablePointer<Float> {
        guard let d = dropout, d.hidden > 0 else { return dH }
        DropoutKernels.apply(dH, mask: mask.data, scale: 1 / (1 - d.hidden), count: n * config.hiddenSize, into: g.dTmp.data)
        return g.dTmp.data
    }

    /// Attention backward per (sequence, head): from dCtx to dQ, dK, dV in `g.dQKV` (softmax backward on the stored
    /// probabilities; attention dropout replayed from its mask). Keys past a row's last real token get zero.
    private func attentionBackward(_ l: Int, acts a: LayerActivations, ws: EncoderWorkspace, g: EncoderGradientWorkspace,
                                   dropout: DropoutSpec?) {
        let b = ws.batch, t = ws.seqLen, h = config.hiddenSize, nh = config.numHeads, d = config.headDim
        let scale = 1 / Float(d).squareRoot()
        let ld = 3 * h, q = a.qkv.data, k = q + h, v = q + 2 * h, probs = a.probs.data, keep = a.probsMask.data
        let dCtx = g.dCtx.data, dQ = g.dQKV.data, dK = dQ + h, dV = dQ + 2 * h, dProbs = g.dProbs.data
        let keyLengths = ws.keyLengths
        let rate: Float = dropout?.attention ?? 0
        BLAS.singleThreaded { Parallel.forRanges(b * nh) { range in
            for pair in range {
                let r = pair / nh, head = pair % nh
                let lk = keyLengths[r], base = r * t * ld + head * d, cb = r * t * h + head * d
                let pm = probs + pair * t * t, s = dProbs + pair * t * t
                // dV = P'ᵀ·dCtx, with P' the (dropped) probabilities the forward multiplied V by; P' is
                // built in the dP block, which is overwritten right after.
                var pv = UnsafePointer(pm)
                if rate > 0 {
                    DropoutKernels.apply(pm, mask: keep + pair * t * t, scale: 1 / (1 - rate), count: t * t, into: s)
                    pv = UnsafePointer(s)
                }
                BLAS.gemm(transA: true, m: lk, n: d, k: t, a: pv, lda: t, b: dCtx + cb, ldb: h, c: dV + base, ldc: ld)
                // dP' = dCtx·Vᵀ, then through dropout and the softmax.
                BLAS.gemm(transB: true, m: t, n: lk, k: d, a: dCtx + cb, lda: h, b: v + base, ldb: ld, c: s, ldc: t)
                for i in 0..<t {
                    if rate > 0 {
                        BackwardKernels.softmaxRow(p: pm + i * t, dp: s + i * t, keep: keep + pair * t * t + i * t,
                                                   scale: 1 / (1 - rate), valid: lk)
                    } else {
                        BackwardKernels.softmaxRow(p: pm + i * t, dp: s + i * t, valid: lk)
                    }
                }
                // S = scale·Q·Kᵀ.
                BLAS.gemm(m: t, n: d, k: lk, alpha: scale, a: s, lda: t, b: k + base, ldb: ld, c: dQ + base, ldc: ld)
                BLAS.gemm(transA: true, m: lk, n: d, k: t, alpha: scale, a: s, lda: t, b: q + base, ldb: ld, c: dK + base, ldc: ld)
                for j in lk..<t {
                    (dK + base + j * ld).update(repeating: 0, count: d)
                    (dV + base + j * ld).update(repeating: 0, count: d)
                }
            }
        } }
    }

    /// Embedding dropout and LayerNorm backward into `g.inputGradient`, then scatter-adds into the word
    /// (by id; the pad id's row gets nothing, as nn.Embedding's padding_idx), position (by `ws.positionIds`) and
    /// token-type tables.
    private func embeddingsBackward(_ batch: TokenBatch, ws: EncoderWorkspace, g: EncoderGradientWorkspace,
                                    grads gr: UnsafeMutablePointer<Float>?, dropout: DropoutSpec?) {
        let n = batch.batch * batch.seqLen, h = config.hiddenSize, p = params.values.data
        let dH = g.dHidden.data, dIn = g.inputGradient.data
        if let d = dropout, d.hidden > 0 {
            DropoutKernels.apply(dH, mask: ws.embMask.data, scale: 1 / (1 - d.hidden), count: n * h)
        }
        BackwardKernels.layerNorm(dy: dH, x: ws.embSum.data, mean: ws.embMean.data, rstd: ws.embRstd.data, gamma: p + embLNG,
                                  rows: n, cols: h, dx: dIn, dGamma: gr.map { $0 + embLNG }, dBeta: gr.map { $0 + embLNB })
        guard let gr else { return }
        batch.ids.withUnsafeBufferPointer { ids in
            BackwardKernels.scatterAddRows(dIn, rows: n, width: h, indices: ids.baseAddress!, skip: Int32(config.padTokenId), into: gr + word)
        }
        batch.typeIds.withUnsafeBufferPointer { types in
            BackwardKernels.scatterAddRows(dIn, rows: n, width: h, indices: types.baseAddress!, into: gr + tokenType)
        }
        // Position rows as the forward pass read them; RoBERTa's pad row is its nn.Embedding padding_idx.
        precondition(ws.positionIds.count == n, "backward batch differs from the forward pass")
        ws.positionIds.withUnsafeBufferPointer { pos in
            BackwardKernels.scatterAddRows(dIn, rows: n, width: h, indices: pos.baseAddress!,
                                           skip: config.paddingOffsetPositions ? Int32(config.padTokenId) : nil, into: gr + position)
        }
    }
}
