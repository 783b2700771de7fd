import Foundation
import Runtime

/// Loss functions that return the loss and, in the same pass, its gradient with respect to the logits.
public enum Losses {
    /// Label value whose row is ignored (PyTorch's CrossEntropyLoss default `ignore_index`).
    public static let ignoreIndex: Int32 = -100

    /// Softmax cross-entropy over `rows` x `classes` logits, mean over rows whose label is not -100
    /// (PyTorch's `CrossEntropyLoss()`). Writes dL/dlogits (zero on ignored rows) and returns the loss
    /// (0 with all-zero gradients when every row is ignored, where PyTorch would return NaN).
    public static func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, rows: Int, classes c: Int, labels: UnsafePointer<Int32>,
        dLogits: UnsafeMutablePointer<Float>
    ) -> (loss: Float, counted: Int) {
        var counted = 0
        for r in 0..<rows where labels[r] != ignoreIndex { counted += 1 }
        guard counted > 0 else {
            dLogits.update(repeating: 0, count: rows * c)
            return (0, 0)
        }
        let inv = 1 / Float(counted)
        var total: Double = 0
        for r in 0..<rows {
            let z = logits + r * c, d = dLogits + r * c
            let y = labels[r]
            if y == ignoreIndex { d.update(repeating: 0, count: c); continue }
            // d ← softmax(z) (exp of shifted logits, then normalised), loss = logsumexp − z_y.
            let m = FastMath.max(c, z)
            let mv = FastMath.V(repeating: m)
            FastMath.map(c, z, d) { FastMath.exp($0 - mv) }
            let s = FastMath.sum(c, d)
            total += Double(log(s) + m - z[Int(y)])
            BLAS.scale(c, inv / s, d)
            d[Int(y)] -= inv
        }
        return (Float(total / Double(counted)), counted)
    }

    /// Binary cross-entropy with logits, mean over rows (PyTorch's `BCEWithLogitsLoss()`): targets in [0, 1].
    public static func binaryCrossEntropy(
        logits z: UnsafePointer<Float>, targets y: UnsafePointer<Float>, rows: Int, dLogits: UnsafeMutablePointer<Float>
    ) -> Float {
        guard rows > 0 else { return 0 }
        var total: Double = 0
        let inv = 1 / Float(rows)
        for r in 0..<rows {
            let x = z[r], t = y[r]
            // max(x, 0) − x·t + log(1 + e^−|x|): stable for either sign.
            total += Double(max(x, 0) - x * t + log1p(exp(-abs(x))))
            let sig = x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
            dLogits[r] = (sig - t) * inv
        }
        return Float(total / Double(rows))
    }

    /// Checks class labels (0..<classes or -100) so a bad label is an error, not a wild write.
    static func validate(labels: [Int32], classes: Int, what: String) throws {
        for (i, y) in labels.enumerated() where y != ignoreIndex && (y < 0 || Int(y) >= classes) {
            throw ModelError.badInput("\(what) label \(y) at index \(i) is outside 0..<\(classes) (or -100 to ignore)")
        }
    }
}
