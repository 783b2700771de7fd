import Runtime
/// How a thinned task vector is scaled back up.
public enum RescaleRule: Sendable, Equatable, Hashable {
    case none
    /// Multiply survivors by 1/density: DARE's rule, which keeps the expected task vector unchanged.
    case inverseDensity
    /// Match the norm of the untrimmed task vector (mergekit 0.1.x `rescale: true` uses L1).
    case l1, l2, linf

    var name: String {
        switch self {
        case .none: return "none"
        case .inverseDensity: return "density"
        case .l1: return "l1"
        case .l2: return "l2"
        case .linf: return "linf"
        }
    }
}

/// Decides, element by element in index order, whether one model's task-vector entry survives sparsification,
/// and by how much survivors are scaled. Flat stored fields (no enum payloads) keep the per-element path cheap.
struct DeltaFilter: Sendable {
    enum Mode: Sendable { case keepAll, dropAll, window, random }

    var mode: Mode
    /// Elements among the `low` smallest are dropped (trim small magnitudes).
    var low = RankCut(value: -.infinity, quota: 0)
    /// Elements not among the `high` smallest are dropped (breadcrumbs' outliers).
    var high = RankCut(value: .infinity, quota: Int.max)
    var threshold: UInt64 = 0
    var rng = SeededGenerator(seed: 0)
    var scale: Float = 1

    static let keepAll = DeltaFilter(mode: Mode.keepAll)

    @inline(__always)
    mutating func keeps(_ magnitude: Float) -> Bool {
        switch mode {
        case .keepAll: return true
        case .dropAll: return false
        case .window:
            // Evaluate both cuts every time: each consumes its tie quota in index order.
            let small = low.contains(magnitude)
            let inside = high.contains(magnitude)
            return !small && inside
        case .random: return rng.next() < threshold
        }
    }

    /// Writes (delta * scale) * weight for the kept entries of one chunk (0 for dropped ones) and advances the
    /// filter's state, so consecutive chunks behave exactly like one pass. The mode switch sits outside the
    /// loops, which keeps each loop tight (the keep-all one vectorises).
    mutating func apply(model x: UnsafePointer<Float>, base b: UnsafePointer<Float>, count n: Int, weight w: Float,
                        into out: UnsafeMutablePointer<Float>) {
        let s = scale
        switch mode {
        case .keepAll:
            for e in 0..<n { out[e] = ((x[e] - b[e]) * s) * w }
        case .dropAll:
            out.update(repeating: 0, count: n)
        case .window where high.value == .infinity && high.quota == Int.max:
            // Only the low cut (TIES, magnitude pruning): the high one keeps everything. Branch-free, since
            // at density 0.5 "below the cut" is a coin flip the predictor cannot learn.
            let v = low.value
            var quota = low.quota
            for e in 0..<n {
                let d = x[e] - b[e]
                let m = MagnitudeSelection.magnitude(d)
                let tie = m == v && quota > 0
                quota &-= tie ? 1 : 0
                let small = m < v || tie
                out[e] = small ? 0 : (d * s) * w
            }
            low.quota = quota
        case .window:
            var lo = low, hi = high
            for e in 0..<n {
                let d = x[e] - b[e]
                let m = MagnitudeSelection.magnitude(d)
                let small = lo.contains(m)
                let inside = hi.contains(m)
                out[e] = !small && inside ? (d * s) * w : 0
            }
            low = lo; high = hi
        case .random:
            var r = rng
            let t = threshold
            for e in 0..<n {
                let keep = r.next() < t
                out[e] = keep ? ((x[e] - b[e]) * s) * w : 0
            }
            rng = r
        }
    }

    /// mergekit's `magnitude`: keep the top `int(density * n)` entries by magnitude.
    static func magnitude(density: Double, scratch: UnsafePointer<Float>, count n: Int) -> DeltaFilter {
        if density >= 1 { return .keepAll }
        let k = Int((density * Double(n)).rounded(.towardZero))
        // mergekit asserts k > 0; dropping the whole task vector is the graceful reading of "keep nothing".
        if k <= 0 { return DeltaFilter(mode: .dropAll) }
        var f = DeltaFilter(mode: .window)
        f.low = RankCut(smallest: n - k, of: scratch, count: n)
        return f
    }

    /// mergekit's `magnitude_outliers` (Model Breadcrumbs): drop the top `int(gamma * n)` and then the smallest
    /// entries so that `int(density * n)` remain. mergekit keeps `sorted[n_bot:-n_top]`, which is empty when
    /// n_top == 0 (a slicing bug); we keep the `n - n_bot` largest in that case, as the method intends.
    static func magnitudeOutliers(density: Double, gamma: Double, scratch: UnsafePointer<Float>, count n: Int) -> DeltaFilter {
        if density >= 1 { return .keepAll }
        let target = Int((density * Double(n)).rounded(.towardZero))
        var nTop = Int((gamma * Double(n)).rounded(.towardZero))
        var nBot = n - target - nTop
        if nBot < 0 { nTop += nBot; nBot = 0 }
        nTop = max(nTop, 0)
        if n - nTop <= nBot { return DeltaFilter(mode: .dropAll) }
        var f = DeltaFilter(mode: .window)
        f.low = RankCut(smallest: nBot, of: scratch, count: n)
        f.high = RankCut(smallest: n - nTop, of: scratch, count: n)
        return f
    }

    /// DARE: keep each entry independently with probability `density`.
    static func random(density: Double, rng: SeededGenerator) -> DeltaFilter {
        if density >= 1 { return .keepAll }
        if density <= 0 { return DeltaFilter(mode: .dropAll) }
        var f = DeltaFilter(mode: .random)
        // density in (0, 1): the product is below 2^64, so the conversion cannot trap.
        f.threshold = UInt64(density * 18_446_744_073_709_551_616.0)
        f.rng = rng
        return f
    }

    /// Sets `scale` for `rule`. Norm rules need one dry pass over the deltas with a copy of this filter
    /// (value semantics: the copy consumes tie quotas and random draws, the original is untouched).
    mutating func applyRescale(_ rule: RescaleRule, density: Double, model: UnsafePointer<Float>, base: UnsafePointer<Float>, count n: Int) {
        switch rule {
        case .none: return
        case .inverseDensity:
            if mode == .keepAll || mode == .dropAll || density <= 0 { return }
            scale = Float(1 / density)
        case .l1, .l2, .linf:
            if mode == .keepAll || mode == .dropAll { return }
            var probe = self
            var before = 0.0, after = 0.0
            for e in 0..<n {
                let d = model[e] - base[e]
                let a = Double(abs(d))
                let kept = probe.keeps(MagnitudeSelection.magnitude(d))
                switch rule {
                case .l1: before += a; if kept { after += a }
                case .l2: before += a * a; if kept { after += a * a }
                default: before = max(before, a); if kept { after = max(after, a) }
                }
            }
            if rule == .l2 { before = before.squareRoot(); after = after.squareRoot() }
            // mergekit leaves the masked tensor unscaled when either norm is below 1e-7.
            if before < 1e-7 || after < 1e-7 { return }
            scale = Float(before / after)
        }
    }
}
