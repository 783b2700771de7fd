/// Fused elementwise kernels of the encoder's forward pass; tight pointer loops, rows split across threads.
public enum Kernels {
    typealias V = FastMath.V

    /// out = LayerNorm(x) * gamma + beta per row of `cols`; records per-row mean and 1/std when asked (backward needs them).
    public static func layerNorm(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float,
        mean: UnsafeMutablePointer<Float>? = nil, rstd: UnsafeMutablePointer<Float>? = nil, parallel: Bool = true
    ) {
        Parallel.forRanges(rows, minPerChunk: parallel ? 64 : Int.max) { range in
            for r in range {
                let xr = x + r * cols, orow = out + r * cols
                let m = FastMath.sum(cols, xr) / Float(cols)
                var acc = V(repeating: 0)
                var i = 0
                let mv = V(repeating: m)
                while i + 16 <= cols { let d = FastMath.load(xr + i) - mv; acc += d * d; i += 16 }
                var v = acc.sum()
                while i < cols { let d = xr[i] - m; v += d * d; i += 1 }
                let rs = 1 / (v / Float(cols) + eps).squareRoot()
                i = 0
                let rv = V(repeating: rs)
                while i + 16 <= cols {
                    FastMath.store((FastMath.load(xr + i) - mv) * rv * FastMath.load(gamma + i) + FastMath.load(beta + i), orow + i)
                    i += 16
                }
                while i < cols { orow[i] = (xr[i] - m) * rs * gamma[i] + beta[i]; i += 1 }
                mean?[r] = m
                rstd?[r] = rs
            }
        }
    }

    /// sum[r] += bias + residual[r] in place (bias optional), then out = LayerNorm(sum) as `layerNorm`: a dense
    /// layer's bias, the residual add and the LayerNorm in one pass over rows still in cache (saves two passes
    /// over [rows, cols] against bias-in-GEMM + add + LayerNorm; short prompts feel it most). `out` may alias `residual`.
    public static func biasResidualLayerNorm(
        _ sum: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        eps: Float, mean: UnsafeMutablePointer<Float>? = nil, rstd: UnsafeMutablePointer<Float>? = nil
    ) {
        Parallel.forRanges(rows, minPerChunk: 64) { range in
            for r in range {
                let sr = sum + r * cols, xr = residual + r * cols
                var i = 0
                if let bias {
                    while i + 16 <= cols { FastMath.store(FastMath.load(sr + i) + FastMath.load(bias + i) + FastMath.load(xr + i), sr + i); i += 16 }
                    while i < cols { sr[i] = sr[i] + bias[i] + xr[i]; i += 1 }
                } else {
                    while i + 16 <= cols { FastMath.store(FastMath.load(sr + i) + FastMath.load(xr + i), sr + i); i += 16 }
                    while i < cols { sr[i] += xr[i]; i += 1 }
                }
                layerNorm(sr, out + r * cols, rows: 1, cols: cols, gamma: gamma, beta: beta, eps: eps,
                          mean: mean.map { $0 + r }, rstd: rstd.map { $0 + r }, parallel: false)
            }
        }
    }

    /// Exact (erf) GELU: 0.5 x (1 + erf(x / sqrt 2)).
    public static func gelu(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        Parallel.forRanges(n / 16, minPerChunk: 4096) { range in
            let lo = range.lowerBound * 16
            let hi = range.upperBound == n / 16 ? n : range.upperBound * 16
            FastMath.map(hi - lo, x + lo, out + lo) { v in 0.5 * v * (1 + FastMath.erf(v * 0.7071067811865476)) }
        }
        if n < 16 { FastMath.map(n, x, out) { v in 0.5 * v * (1 + FastMath.erf(v * 0.7071067811865476)) } }
    }

    /// In-place softmax over the first `valid` entries of a row; entries past `valid` (masked keys) become 0.
    @inline(__always)
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, valid: Int, total: Int) {
        let m = FastMath.max(valid, row)
        let mv = V(repeating: m)
        FastMath.map(valid, row, row) { FastMath.exp($0 - mv) }
        let s = 1 / FastMath.sum(valid, row)
        var i = 0
        let sv = V(repeating: s)
        while i + 16 <= valid { FastMath.store(FastMath.load(row + i) * sv, row + i); i += 16 }
        while i < valid { row[i] *= s; i += 1 }
        if valid < total { (row + valid).update(repeating: 0, count: total - valid) }
    }

    /// In-place softmax of `row[0..<valid] + bias[0..<valid]` (the additive key mask: 0 or a huge negative);
    /// entries past `valid` become 0. One pass for the masked maximum, one fused exp-and-sum pass, one scale pass.
    @inline(__always)
    public static func maskedSoftmaxRow(_ row: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, valid: Int, total: Int) {
        var i = 0
        var mx = -Float.infinity
        if valid >= 16 {
            var acc = FastMath.load(row) + FastMath.load(bias)
            FastMath.store(acc, row)
            i = 16
            while i + 16 <= valid {
                let v = FastMath.load(row + i) + FastMath.load(bias + i)
                FastMath.store(v, row + i)
                acc.replace(with: v, where: v .> acc)
                i += 16
            }
            mx = acc.max()
        }
        while i < valid { let v = row[i] + bias[i]; row[i] = v; if v > mx { mx = v }; i += 1 }
        let mv = V(repeating: mx)
        var sumv = V(repeating: 0)
        i = 0
        while i + 16 <= valid {
            let e = FastMath.exp(FastMath.load(row + i) - mv)
            FastMath.store(e, row + i)
            sumv += e
            i += 16
        }
        var sum = sumv.sum()
        if i < valid {
            var v = V(repeating: 0)
            for j in 0..<(valid - i) { v[j] = row[i + j] }
            let e = FastMath.exp(v - mv)
            for j in 0..<(valid - i) { row[i + j] = e[j]; sum += e[j] }
        }
        let s = 1 / sum
        let sv = V(repeating: s)
        i = 0
        while i + 16 <= valid { FastMath.store(FastMath.load(row + i) * sv, row + i); i += 16 }
        while i < valid { row[i] *= s; i += 1 }
        if valid < total { (row + valid).update(repeating: 0, count: total - valid) }
    }

    /// pre[r, c] += bias[c], then act = GELU(pre): the FFN's bias and activation in one pass (pre keeps the
    /// biased pre-activation for backward).
    public static func biasGelu(_ pre: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, _ act: UnsafeMutablePointer<Float>,
                                rows: Int, cols: Int) {
        Parallel.forRanges(rows, minPerChunk: max(1, 4096 / max(cols, 1))) { range in
            for r in range {
                let p = pre + r * cols, a = act + r * cols
                var i = 0
                while i + 16 <= cols {
                    let x = FastMath.load(p + i) + FastMath.load(bias + i)
                    FastMath.store(x, p + i)
                    FastMath.store(0.5 * x * (1 + FastMath.erf(x * 0.7071067811865476)), a + i)
                    i += 16
                }
                let lo = i
                while i < cols { p[i] += bias[i]; i += 1 }
                if lo < cols { FastMath.map(cols - lo, p + lo, a + lo) { v in 0.5 * v * (1 + FastMath.erf(v * 0.7071067811865476)) } }
            }
        }
    }

    /// y += x over n elements.
    @inline(__always)
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i + 16 <= n { FastMath.store(FastMath.load(y + i) + FastMath.load(x + i), y + i); i += 16 }
        while i < n { y[i] += x[i]; i += 1 }
    }
}
