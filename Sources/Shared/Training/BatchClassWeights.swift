import Foundation

/// Row weights that give the two classes equal total weight in one global batch (`PretrainOptions.classBalance`):
/// a class with n of the batch's N rows weighs N/(2n) per row, so a corpus that is 44% unsafe (bench/gip's after
/// cross-policy pairs; 24-31% under the advice policies) still trains the classifier's prior at even odds. A batch
/// of one class keeps weight 1. Counts are of the global batch, so every split of it weighs its rows alike.
public struct BatchClassWeights: Sendable, Equatable {
    public let safe: Float
    public let unsafe: Float

    public static let unweighted = BatchClassWeights(safe: 1, unsafe: 1)

    public init(safe: Float, unsafe: Float) { self.safe = safe; self.unsafe = unsafe }

    /// Balanced weights for a global batch of `rows` rows, `unsafeRows` of them unsafe.
    public init(unsafeRows: Int, rows: Int) {
        let safeRows = rows - unsafeRows
        guard unsafeRows > 0, safeRows > 0 else { self = .unweighted; return }
        self.init(safe: Float(rows) / Float(2 * safeRows), unsafe: Float(rows) / Float(2 * unsafeRows))
    }

    @inline(__always)
    public func weight(_ label: Int32) -> Float { label == 1 ? unsafe : safe }

    /// Turns a mean cross-entropy over `labels.count` rows (its logit gradient rows (p − onehot)/rows in `dLogits`)
    /// into the weighted mean Σ wᵢ·CEᵢ / rows: scales each gradient row by its weight, returns the weighted loss.
    public func reweight(logits: UnsafePointer<Float>, labels: [Int32], classes c: Int, dLogits: UnsafeMutablePointer<Float>) -> Float {
        guard !labels.isEmpty else { return 0 }
        var total: Double = 0
        for (r, y) in labels.enumerated() {
            let z = logits + r * c, w = weight(y)
            var m = z[0]
            for j in 1..<c { m = max(m, z[j]) }
            var s: Double = 0
            for j in 0..<c { s += exp(Double(z[j] - m)) }
            total += Double(w) * (Double(m) + log(s) - Double(z[Int(y)]))
            for j in 0..<c { dLogits[r * c + j] *= w }
        }
        return Float(total / Double(labels.count))
    }
}
