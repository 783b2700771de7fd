/// Model soup / linear merge of one tensor: sum_i w_i x_i, divided by sum_i w_i when normalising (mergekit `linear`).
enum LinearKernel {
    static func run(inputs: [UnsafePointer<Float>], weights: [Float], normalize: Bool, count n: Int,
                    out: UnsafeMutablePointer<Float>) {
        // Same float32 operation order as mergekit: products summed model by model, then one division.
        var divisor: Float = 0
        for w in weights { divisor += w }
        out.initialize(repeating: 0, count: n)
        for (x, w) in zip(inputs, weights) {
            for e in 0..<n { out[e] += w * x[e] }
        }
        if normalize {
            for e in 0..<n { out[e] /= divisor }
        }
    }
}
