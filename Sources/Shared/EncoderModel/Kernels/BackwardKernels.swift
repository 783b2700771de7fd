/// Kernels of the backward pass: Linear backward through BLAS, fused elementwise loops (SIMD), and
/// column reductions split by column block so no two threads write the same output.
public enum BackwardKernels {
    typealias V = FastMath.V

    /// Backward of y[rows, out] = x[rows, in] · Wᵀ + b: dW += dYᵀ·x, db += Σ_rows dY, dX (=, or += when
    /// `accumulate`) dY·W. Nil outputs are skipped (frozen weights, or input gradients nobody needs).
    public static func linear(
        dY: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, inFeatures k: Int, outFeatures o: Int,
        weight: UnsafePointer<Float>, dW: UnsafeMutablePointer<Float>?, dB: UnsafeMutablePointer<Float>?,
        dX: UnsafeMutablePointer<Float>?, accumulate: Bool = false
    ) {
        guard rows > 0 else { return }
        if let dW { BLAS.gemm(transA: true, m: o, n: k, k: rows, a: dY, lda: o, b: x, ldb: k, beta: 1, c: dW, ldc: k) }
        if let dB { addColumnSums(dY, rows: rows, cols: o, into: dB) }
        if let dX { BLAS.gemm(m: rows, n: k, k: o, a: dY, lda: o, b: weight, ldb: k, beta: accumulate ? 1 : 0, c: dX, ldc: k) }
    }

    /// acc[c] += Σ_r x[r, c] (bias gradients).
    public static func addColumnSums(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into acc: UnsafeMutablePointer<Float>) {
        columnBlocks(cols, rows: rows) { c0, w in
            if w == 16 {
                var s = V(repeating: 0)
                for r in 0..<rows { s += FastMath.load(x + r * cols + c0) }
                FastMath.store(FastMath.load(acc + c0) + s, acc + c0)
            } else {
                for c in c0..<(c0 + w) {
                    var s: Float = 0
                    for r in 0..<rows { s += x[r * cols + c] }
                    acc[c] += s
                }
            }
        }
    }

    /// Runs `body(firstColumn, width)` over 16-wide column blocks, blocks split across threads.
    @inline(__always)
    static func columnBlocks(_ cols: Int, rows: Int, _ body: (Int, Int) -> Void) {
        let blocks = (cols + 15) / 16
        Parallel.forRanges(blocks, minPerChunk: max(1, 16_384 / max(rows * 16, 1))) { range in
            for blk in range { body(blk * 16, min(16, cols - blk * 16)) }
        }
    }

    /// LayerNorm backward for y = x̂·γ + β with x̂ = (x − mean)·rstd: dγ += Σ dy·x̂ and dβ += Σ dy (when
    /// non-nil), dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ. `dx` may alias `dy`.
    public static func layerNorm(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        gamma: UnsafePointer<Float>, rows: Int, cols: Int, dx: UnsafeMutablePointer<Float>,
        dGamma: UnsafeMutablePointer<Float>?, dBeta: UnsafeMutablePointer<Float>?
    ) {
        // Parameter reductions first: dx may overwrite dy.
        if let dGamma, let dBeta {
            columnBlocks(cols, rows: rows) { c0, w in
                if w == 16 {
                    var sg = V(repeating: 0), sb = V(repeating: 0)
                    for r in 0..<rows {
                        let d = FastMath.load(dy + r * cols + c0)
                        let xh = (FastMath.load(x + r * cols + c0) - V(repeating: mean[r])) * V(repeating: rstd[r])
                        sg += d * xh; sb += d
                    }
                    FastMath.store(FastMath.load(dGamma + c0) + sg, dGamma + c0)
                    FastMath.store(FastMath.load(dBeta + c0) + sb, dBeta + c0)
                } else {
                    for c in c0..<(c0 + w) {
                        var sg: Float = 0, sb: Float = 0
                        for r in 0..<rows {
                            let d = dy[r * cols + c]
                            sg += d * (x[r * cols + c] - mean[r]) * rstd[r]; sb += d
                        }
                        dGamma[c] += sg; dBeta[c] += sb
                    }
                }
            }
        }
        let inv = 1 / Float(cols)
        Parallel.forRanges(rows, minPerChunk: 64) { range in
            for r in range {
                let dr = dy + r * cols, xr = x + r * cols, out = dx + r * cols
                let m = V(repeating: mean[r]), rs = V(repeating: rstd[r])
                var a1 = V(repeating: 0), a2 = V(repeating: 0)
                var i = 0
                while i + 16 <= cols {
                    let g = FastMath.load(dr + i) * FastMath.load(gamma + i)
                    a1 += g; a2 += g * (FastMath.load(xr + i) - m) * rs
                    i += 16
                }
                var s1 = a1.sum(), s2 = a2.sum()
                while i < cols {
                    let g = dr[i] * gamma[i]
                    s1 += g; s2 += g * (xr[i] - mean[r]) * rstd[r]
                    i += 1
                }
                let m1 = V(repeating: s1 * inv), m2 = V(repeating: s2 * inv)
                i = 0
                while i + 16 <= cols {
                    let g = FastMath.load(dr + i) * FastMath.load(gamma + i)
                    let xh = (FastMath.load(xr + i) - m) * rs
                    FastMath.store(rs * (g - m1 - xh * m2), out + i)
                    i += 16
                }
                while i < cols {
                    let xh = (xr[i] - mean[r]) * rstd[r]
                    out[i] = rstd[r] * (dr[i] * gamma[i] - s1 * inv - xh * s2 * inv)
                    i += 1
                }
            }
        }
    }

    /// dy *= GELU'(x) in place for exact (erf) GELU: Φ(x) + x·φ(x).
    public static func gelu(dy: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, count n: Int) {
        let blocks = (n + 15) / 16
        Parallel.forRanges(blocks, minPerChunk: 2048) { range in
            let lo = range.lowerBound * 16, hi = min(n, range.upperBound * 16)
            var i = lo
            while i + 16 <= hi {
                FastMath.store(FastMath.load(dy + i) * geluDerivative(FastMath.load(x + i)), dy + i)
                i += 16
            }
            if i < hi {
                var xv = V(repeating: 0)
                for j in 0..<(hi - i) { xv[j] = x[i + j] }
                let dv = geluDerivative(xv)
                for j in 0..<(hi - i) { dy[i + j] *= dv[j] }
            }
        }
    }

    @inline(__always)
    static func geluDerivative(_ x: V) -> V {
        let cdf = 0.5 * (1 + FastMath.erf(x * 0.7071067811865476))
        let pdf = FastMath.exp(x * x * -0.5) * 0.3989422804014327
        return cdf + x * pdf
    }

    /// Softmax backward over one row's first `valid` entries, in place: dp ← p ∘ (dp − Σ p·dp).
    @inline(__always)
    public static func softmaxRow(p: UnsafePointer<Float>, dp: UnsafeMutablePointer<Float>, valid n: Int) {
        var acc = V(repeating: 0)
        var i = 0
        while i + 16 <= n { acc += FastMath.load(p + i) * FastMath.load(dp + i); i += 16 }
        var dot = acc.sum()
        while i < n { dot += p[i] * dp[i]; i += 1 }
        let dv = V(repeating: dot)
        i = 0
        while i + 16 <= n { FastMath.store(FastMath.load(p + i) * (FastMath.load(dp + i) - dv), dp + i); i += 16 }
        while i < n { dp[i] = p[i] * (dp[i] - dot); i += 1 }
    }

    /// Attention dropout replayed and softmax backward in one row pass: dp' = dp ∘ keep · scale, then
    /// dp ← p ∘ (dp' − Σ p·dp'), over the row's first `valid` entries.
    @inline(__always)
    public static func softmaxRow(p: UnsafePointer<Float>, dp: UnsafeMutablePointer<Float>, keep: UnsafePointer<UInt8>,
                                  scale: Float, valid n: Int) {
        var acc = V(repeating: 0)
        let sv = V(repeating: scale)
        var i = 0
        while i + 16 <= n {
            let m = V(UnsafeRawPointer(keep + i).loadUnaligned(as: SIMD16<UInt8>.self))
            let d = FastMath.load(dp + i) * m * sv
            FastMath.store(d, dp + i)
            acc += FastMath.load(p + i) * d
            i += 16
        }
        var dot = acc.sum()
        while i < n {
            let d: Float = keep[i] != 0 ? dp[i] * scale : 0
            dp[i] = d; dot += p[i] * d; i += 1
        }
        let dv = V(repeating: dot)
        i = 0
        while i + 16 <= n { FastMath.store(FastMath.load(p + i) * (FastMath.load(dp + i) - dv), dp + i); i += 16 }
        while i < n { dp[i] = p[i] * (dp[i] - dot); i += 1 }
    }

    /// table[index[r]] += src[r] for each row (embedding gradients); rows whose index is `skip` add nothing.
    public static func scatterAddRows(_ src: UnsafePointer<Float>, rows: Int, width: Int, indices: UnsafePointer<Int32>,
                                      skip: Int32? = nil, into table: UnsafeMutablePointer<Float>) {
        for r in 0..<rows where indices[r] != skip {
            Kernels.add(src + r * width, into: table + Int(indices[r]) * width, count: width)
        }
    }
}
