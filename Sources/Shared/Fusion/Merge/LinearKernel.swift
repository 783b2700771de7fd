/// Model soup / linear merge of one tensor: sum_i w_i x_i, divided by sum_i w_i when normalising (mergekit `linear`).
enum LinearKernel {
    static func run(inputs: [UnsafePointer<Float>], weights: [Float], normalize: Bool, count n: Int,
                    out: UnsafeMutablePointer<Float>) {
        // Same float32 operation order as mergekit: products summed model by model, then one division.
        var divisor: Float = 0
        for w in weights { divisor += w }
        let c = TaskVectorKernel.chunk
        var start = 0
        while start < n {
            let len = min(c, n - start)
            let o = out + start
            o.update(repeating: 0, count: len)
            for (x, w) in zip(inputs, weights) {
                let xs = x + start
                for e in 0..<len { o[e] += w * xs[e] }
            }
            if normalize { for e in 0..<len { o[e] /= divisor } }
            start += len
        }
    }
}
