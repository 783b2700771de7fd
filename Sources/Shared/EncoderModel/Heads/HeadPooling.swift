/// Sequence pooling for classification heads, forward and backward.
public enum HeadPooling {
    /// Backward of `Pooling.mean`: dHidden[r, c] += mask[r, c] / max(Σ mask_r, 1e-9) · dPooled[r].
    public static func meanBackward(_ dPooled: UnsafePointer<Float>, mask: [Float], batch b: Int, seqLen t: Int, hidden h: Int,
                                    into dHidden: UnsafeMutablePointer<Float>) {
        for r in 0..<b {
            var count: Float = 0
            for c in 0..<t { count += mask[r * t + c] }
            let inv = 1 / max(count, 1e-9)
            for c in 0..<t where mask[r * t + c] != 0 {
                BLAS.axpy(h, mask[r * t + c] * inv, dPooled + r * h, dHidden + (r * t + c) * h)
            }
        }
    }

    /// Copies each sequence's first token ([CLS]) hidden state into out [batch, H].
    public static func gatherFirst(_ hidden: UnsafePointer<Float>, batch b: Int, seqLen t: Int, hidden h: Int,
                                   into out: UnsafeMutablePointer<Float>) {
        for r in 0..<b { (out + r * h).update(from: hidden + r * t * h, count: h) }
    }

    /// Backward of `gatherFirst`: adds dFirst[r] into dHidden at each sequence's first token.
    public static func gatherFirstBackward(_ dFirst: UnsafePointer<Float>, batch b: Int, seqLen t: Int, hidden h: Int,
                                           into dHidden: UnsafeMutablePointer<Float>) {
        for r in 0..<b { Kernels.add(dFirst + r * h, into: dHidden + r * t * h, count: h) }
    }
}
