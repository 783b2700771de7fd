import EncoderModel
import Foundation
import Runtime
import Tokenizers

/// The pieces of virtual adversarial training (Miyato et al.) that Alice++ uses on the input embeddings:
/// a random probe, one power-iteration step that turns the KL gradient into the adversarial direction, and
/// the KL between the clean and the perturbed predictions.
///
/// Norms are per sequence over its real tokens and scaled by √tokens, so `epsilon` reads as the average L2
/// norm of one token's perturbation and a long prompt is not perturbed less per token than a short one.
public enum VirtualAdversarial {
    /// Fills `delta` [batch*seqLen, H] with a Gaussian direction of per-sequence size `xi` (padding rows 0).
    /// Row r's draws are keyed by `firstRow + r` (its place in the step's global batch), so a split batch
    /// draws what the whole one would; real positions come first in a row's stream, so its padded length does
    /// not change them (padding is zeroed).
    public static func randomProbe(_ delta: UnsafeMutablePointer<Float>, batch: TokenBatch, hidden h: Int, xi: Float, key: UInt64,
                                   firstRow: Int = 0) {
        let t = batch.seqLen
        for r in 0..<batch.batch {
            var rng = RandomSource(seed: RandomSource.key(key, UInt64(firstRow + r)))
            rng.fillNormal(delta + r * t * h, count: t * h, std: 1)
        }
        normalize(delta, batch: batch, hidden: h, to: xi)
    }

    /// Rescales each sequence's rows of `delta` to L2 norm `size`·√(real tokens); padding rows become 0.
    /// A zero gradient (nothing to follow) stays zero.
    public static func normalize(_ delta: UnsafeMutablePointer<Float>, batch: TokenBatch, hidden h: Int, to size: Float) {
        let t = batch.seqLen
        for r in 0..<batch.batch {
            var sq: Double = 0, real = 0
            for c in 0..<t {
                let row = delta + (r * t + c) * h
                if batch.mask[r * t + c] == 0 { row.update(repeating: 0, count: h); continue }
                real += 1
                sq += Double(BLAS.dot(h, row, row))
            }
            guard sq > 0 else { continue }
            let scale = Float(Double(size) * Double(real).squareRoot() / sq.squareRoot())
            BLAS.scale(t * h, scale, delta + r * t * h)
        }
    }

    /// Softmax probabilities of `rows` x `classes` logits into `probs`.
    public static func softmax(_ logits: UnsafePointer<Float>, rows: Int, classes c: Int, into probs: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let z = logits + r * c, p = probs + r * c
            var m = z[0]
            for j in 1..<c { m = max(m, z[j]) }
            var s: Float = 0
            for j in 0..<c { p[j] = expf(z[j] - m); s += p[j] }
            for j in 0..<c { p[j] /= s }
        }
    }

    /// Mean over rows of KL(target ‖ softmax(logits)), the target held constant (stop-gradient, as in VAT).
    /// Adds `weight` · dKL/dlogits = weight · (softmax(logits) − target) / rows into `dLogits`.
    @discardableResult
    public static func klDivergence(target: UnsafePointer<Float>, logits: UnsafePointer<Float>, rows: Int, classes c: Int,
                                    weight: Float, dLogits: UnsafeMutablePointer<Float>) -> Float {
        guard rows > 0 else { return 0 }
        var total: Double = 0
        let inv = weight / Float(rows)
        for r in 0..<rows {
            let z = logits + r * c, q = target + r * c, d = dLogits + r * c
            var m = z[0]
            for j in 1..<c { m = max(m, z[j]) }
            var s: Double = 0
            for j in 0..<c { s += exp(Double(z[j] - m)) }
            let logSum = Double(m) + log(s)
            for j in 0..<c {
                let logP = Double(z[j]) - logSum
                if q[j] > 0 { total += Double(q[j]) * (log(Double(q[j])) - logP) }
                d[j] += inv * (Float(exp(logP)) - q[j])
            }
        }
        return Float(total / Double(rows))
    }
}
