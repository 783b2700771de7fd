/// Sentence-level pooling of encoder outputs.
public enum Pooling {
    /// Masked mean over tokens (sentence-transformers' mean pooling, denominator clamped at 1e-9): out [batch, H].
    public static func mean(_ hidden: UnsafePointer<Float>, mask: [Float], batch b: Int, seqLen t: Int, hidden h: Int,
                            into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: b * h)
        for r in 0..<b {
            var count: Float = 0
            let o = out + r * h
            for c in 0..<t where mask[r * t + c] != 0 {
                BLAS.axpy(h, mask[r * t + c], hidden + (r * t + c) * h, o)
                count += mask[r * t + c]
            }
            BLAS.scale(h, 1 / max(count, 1e-9), o)
        }
    }

    /// L2-normalises each row in place (norm clamped at 1e-12, as torch.nn.functional.normalize).
    public static func l2Normalize(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let row = x + r * cols
            let norm = BLAS.dot(cols, row, row).squareRoot()
            BLAS.scale(cols, 1 / max(norm, 1e-12), row)
        }
    }
}
