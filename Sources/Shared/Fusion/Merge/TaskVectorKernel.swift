/// Task arithmetic, TIES, DARE and breadcrumbs for one tensor (mergekit's generalized task arithmetic):
/// out = base + lambda * mix_i(w_i * sparsify(x_i - base)).
///
/// With sign consensus (TIES "sum" rule) an entry's sign is the sign of the summed weighted deltas (ties go to +),
/// only deltas of that sign are summed, and normalising divides by the sum of the weights of those agreeing
/// entries (1 where none agree). Without consensus, normalising divides by the sum of all weights.
/// Works in cache-sized chunks: memory beyond the inputs and the output is a few small buffers, and the float
/// operations happen in mergekit's order, so results match it bit for bit.
enum TaskVectorKernel {
    static let chunk = 4096

    static func run(base: UnsafePointer<Float>, models: [UnsafePointer<Float>], weights: [Float],
                    filters: inout [DeltaFilter], consensus: Bool, normalize: Bool, lambda: Float,
                    count n: Int, out: UnsafeMutablePointer<Float>) {
        let k = models.count
        precondition(weights.count == k && filters.count == k)
        var weightSum: Float = 0
        for w in weights { weightSum += w }
        if abs(weightSum) < 1e-8 { weightSum = 1 }
        let c = chunk
        // k weighted-delta rows, then sum, agreeing sum and divisor rows.
        let buf = UnsafeMutablePointer<Float>.allocate(capacity: (k + 3) * c)
        defer { buf.deallocate() }
        let sum = buf + k * c, agree = sum + c, divisor = agree + c
        var start = 0
        while start < n {
            let len = min(c, n - start)
            let b = base + start
            for i in 0..<k {
                filters[i].apply(model: models[i] + start, base: b, count: len, weight: weights[i], into: buf + i * c)
            }
            sum.update(repeating: 0, count: len)
            for i in 0..<k {
                let row = buf + i * c
                for e in 0..<len { sum[e] += row[e] }
            }
            let o = out + start
            if consensus {
                agree.update(repeating: 0, count: len)
                divisor.update(repeating: 0, count: len)
                for i in 0..<k {
                    let row = buf + i * c, w = weights[i]
                    for e in 0..<len {
                        let wd = row[e]
                        let agrees = sum[e] >= 0 ? wd > 0 : wd < 0
                        agree[e] += agrees ? wd : 0
                        divisor[e] += agrees ? w : 0
                    }
                }
                for e in 0..<len {
                    var mixed = agree[e]
                    if normalize { mixed /= divisor[e] == 0 ? 1 : divisor[e] }
                    if lambda != 1 { mixed *= lambda }
                    o[e] = b[e] + mixed
                }
            } else {
                for e in 0..<len {
                    var mixed = sum[e]
                    if normalize { mixed /= weightSum }
                    if lambda != 1 { mixed *= lambda }
                    o[e] = b[e] + mixed
                }
            }
            start += len
        }
    }
}
