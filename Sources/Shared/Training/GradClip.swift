import EncoderModel
/// Gradient clipping by global L2 norm over the flat gradient buffer (torch.nn.utils.clip_grad_norm_).
public enum GradClip {
    /// The L2 norm of all `count` values, accumulated in Double so summation order barely matters.
    public static func norm(_ g: UnsafePointer<Float>, count n: Int) -> Float {
        var total: Double = 0
        var i = 0
        while i < n {
            // Float SIMD partial sums per 4096-element block, promoted to Double between blocks.
            let end = min(n, i + 4096)
            var acc = FastMath.V(repeating: 0)
            while i + 16 <= end { let v = FastMath.load(g + i); acc += v * v; i += 16 }
            var s = Double(acc.sum())
            while i < end { s += Double(g[i]) * Double(g[i]); i += 1 }
            total += s
        }
        return Float(total.squareRoot())
    }

    /// The factor that brings a global norm `norm` down to `maxNorm` (1 when already within it); pass it
    /// to `AdamW.step(gradientScale:)` to clip without a separate pass over the gradients.
    public static func coefficient(norm: Float, maxNorm: Float) -> Float {
        let coef = maxNorm / (norm + 1e-6)
        return coef < 1 ? coef : 1
    }

    /// Scales the gradients so their global norm is at most `maxNorm` (coefficient maxNorm / (norm + 1e-6),
    /// applied only when below 1, as PyTorch) and returns the norm before clipping (log it).
    @discardableResult
    public static func clip(_ grads: Tensor, maxNorm: Float) -> Float {
        let total = norm(grads.data, count: grads.count)
        let coef = coefficient(norm: total, maxNorm: maxNorm)
        if coef < 1 { BLAS.scale(grads.count, coef, grads.data) }
        return total
    }
}
