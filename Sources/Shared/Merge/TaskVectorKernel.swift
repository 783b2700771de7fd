/// Task arithmetic, TIES, DARE and breadcrumbs for one tensor (mergekit's generalized task arithmetic):
/// out = base + lambda * mix_i(w_i * sparsify(x_i - base)).
///
/// With sign consensus (TIES "sum" rule) an entry's sign is the sign of the summed weighted deltas (ties go to +),
/// only deltas of that sign are summed, and normalising divides by the sum of the weights of those agreeing
/// entries (1 where none agree). Without consensus, normalising divides by the sum of all weights.
/// One streaming pass: no per-model delta buffers, so memory stays at the inputs plus the output tensor.
enum TaskVectorKernel {
    static func run(base: UnsafePointer<Float>, models: [UnsafePointer<Float>], weights: [Float],
                    filters: inout [DeltaFilter], consensus: Bool, normalize: Bool, lambda: Float,
                    count n: Int, out: UnsafeMutablePointer<Float>) {
        let k = models.count
        precondition(weights.count == k && filters.count == k)
        var weightSum: Float = 0
        for w in weights { weightSum += w }
        if abs(weightSum) < 1e-8 { weightSum = 1 }
        let scaled = filters.contains { $0.scale != 1 }
        let weighted = UnsafeMutablePointer<Float>.allocate(capacity: max(k, 1))
        defer { weighted.deallocate() }
        models.withUnsafeBufferPointer { xs in
        weights.withUnsafeBufferPointer { ws in
        filters.withUnsafeMutableBufferPointer { fs in
            for e in 0..<n {
                let b = base[e]
                var sum: Float = 0
                for i in 0..<k {
                    let d = xs[i][e] - b
                    var wd: Float = 0
                    if fs[i].keeps(MagnitudeSelection.magnitude(d)) {
                        wd = (scaled ? d * fs[i].scale : d) * ws[i]
                    }
                    weighted[i] = wd
                    sum += wd
                }
                var mixed: Float
                if consensus {
                    let positive = sum >= 0
                    var agreeing: Float = 0, divisor: Float = 0
                    for i in 0..<k {
                        let wd = weighted[i]
                        if positive ? wd > 0 : wd < 0 { agreeing += wd; divisor += ws[i] }
                    }
                    if divisor == 0 { divisor = 1 }
                    mixed = normalize ? agreeing / divisor : agreeing
                } else {
                    mixed = normalize ? sum / weightSum : sum
                }
                if lambda != 1 { mixed *= lambda }
                out[e] = b + mixed
            }
        }
        }
        }
    }
}
