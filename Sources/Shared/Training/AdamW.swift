import EncoderModel
import Foundation

/// PyTorch's AdamW (`torch.optim.AdamW`, single-tensor path) over a whole ParameterStore: decoupled weight
/// decay, bias-corrected moments, eps added outside the square root. One flat pass over the buffer; slots
/// only differ by their decay flag (and frozen slots are skipped entirely).
public final class AdamW: @unchecked Sendable {
    public let params: ParameterStore
    public var beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    /// First and second moments, laid out like the parameters (checkpoint them to resume).
    public let m: Tensor, v: Tensor
    /// Steps taken so far (restore it with the moments).
    public var stepCount = 0
    /// Contiguous runs of trainable parameters sharing a decay flag.
    let segments: [(offset: Int, count: Int, decay: Bool)]

    /// transformers' convention: no weight decay on biases and LayerNorm weights.
    public static func defaultDecays(_ name: String) -> Bool { !(name.hasSuffix(".bias") || name.contains("LayerNorm")) }

    /// `trainable` picks the slots that move (e.g. only `classifier.*` for classifier-only fine-tuning).
    public init(params: ParameterStore, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01,
                decays: (String) -> Bool = AdamW.defaultDecays, trainable: (String) -> Bool = { _ in true }) {
        self.params = params; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        m = params.makeLike(); v = params.makeLike()
        var segs: [(offset: Int, count: Int, decay: Bool)] = []
        for s in params.slots where trainable(s.name) && s.count > 0 {
            let d = decays(s.name)
            if let last = segs.last, last.decay == d, last.offset + last.count == s.offset {
                segs[segs.count - 1].count += s.count
            } else {
                segs.append((s.offset, s.count, d))
            }
        }
        segments = segs
    }

    /// Number of parameters this optimizer updates.
    public var trainableCount: Int { segments.reduce(0) { $0 + $1.count } }

    /// One update with learning rate `lr` from `grads` (laid out like the parameters), each gradient
    /// multiplied by `gradientScale` on the fly (clipping coefficient, 1/workers) instead of a separate pass.
    public func step(grads: Tensor, lr: Float, gradientScale: Float = 1) {
        precondition(grads.count == params.count, "gradient buffer is not laid out like the parameters")
        stepCount += 1
        // Scalars in Double as PyTorch computes them in Python, then rounded once to Float.
        let t = Double(stepCount)
        let bc1 = 1 - pow(Double(beta1), t), bc2 = 1 - pow(Double(beta2), t)
        let stepSize = Float(Double(lr) / bc1), bc2Sqrt = Float(bc2.squareRoot())
        let decayFactor = Float(1 - Double(lr) * Double(weightDecay))
        let k = AdamWKernel(oneMinusBeta1: Float(1 - Double(beta1)), beta2: beta2, oneMinusBeta2: Float(1 - Double(beta2)),
                            eps: eps, stepSize: stepSize, bc2Sqrt: bc2Sqrt, gradScale: gradientScale)
        let p = params.values.data, g = grads.data, mm = m.data, vv = v.data
        for seg in segments {
            let f: Float = seg.decay ? decayFactor : 1
            Parallel.forRanges(seg.count, minPerChunk: 65_536) { range in
                let o = seg.offset + range.lowerBound
                k.run(p + o, g + o, mm + o, vv + o, count: range.count, decay: f)
            }
        }
    }
}

/// The per-element AdamW update with its step's scalars.
struct AdamWKernel {
    typealias V = FastMath.V
    let oneMinusBeta1, beta2, oneMinusBeta2, eps, stepSize, bc2Sqrt, gradScale: Float

    /// p ← p·decay; m ← m + (1−β1)(g − m); v ← β2·v + (1−β2)·g²; p ← p − stepSize · m / (√v / √bc2 + eps).
    @inline(__always)
    func run(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
             _ v: UnsafeMutablePointer<Float>, count n: Int, decay: Float) {
        var i = 0
        let a1 = V(repeating: oneMinusBeta1), b2 = V(repeating: beta2), a2 = V(repeating: oneMinusBeta2)
        let e = V(repeating: eps), ss = V(repeating: stepSize), bc = V(repeating: bc2Sqrt), dv = V(repeating: decay)
        let gs = V(repeating: gradScale)
        while i + 16 <= n {
            let gv = gradScale == 1 ? FastMath.load(g + i) : FastMath.load(g + i) * gs
            let mv = FastMath.load(m + i) + a1 * (gv - FastMath.load(m + i))
            let vv = FastMath.load(v + i) * b2 + a2 * gv * gv
            let denom = vv.squareRoot() / bc + e
            FastMath.store(FastMath.load(p + i) * dv - ss * (mv / denom), p + i)
            FastMath.store(mv, m + i); FastMath.store(vv, v + i)
            i += 16
        }
        while i < n {
            let gi = gradScale == 1 ? g[i] : g[i] * gradScale
            let mi = m[i] + oneMinusBeta1 * (gi - m[i])
            let vi = v[i] * beta2 + oneMinusBeta2 * gi * gi
            p[i] = p[i] * decay - stepSize * (mi / (vi.squareRoot() / bc2Sqrt + eps))
            m[i] = mi; v[i] = vi
            i += 1
        }
    }
}
