/// Order statistics of magnitudes in O(n) average time (quickselect), so trimming a tensor to its top-k entries
/// never sorts it. Ties are broken by element index, which makes every cut exact and deterministic.
enum MagnitudeSelection {
    /// |x| with NaN ranked as the largest magnitude, so corrupt values cannot break the selection's ordering.
    @inline(__always)
    static func magnitude(_ x: Float) -> Float {
        let a = abs(x)
        return a.isNaN ? .infinity : a
    }

    /// The value of rank `k` (0-based, ascending) among `a[0..<n]`; reorders `a`.
    static func select(_ a: UnsafeMutablePointer<Float>, count n: Int, rank k: Int) -> Float {
        precondition(k >= 0 && k < n)
        var lo = 0, hi = n - 1
        // Introselect guard: if median-of-three keeps picking bad pivots, sort the remaining range instead.
        var budget = 2 * (Int.bitWidth - n.leadingZeroBitCount) + 8
        while hi > lo {
            if budget == 0 {
                var rest = UnsafeMutableBufferPointer(start: a + lo, count: hi - lo + 1)
                rest.sort()
                return a[k]
            }
            budget -= 1
            let mid = lo + (hi - lo) / 2
            let x = a[lo], y = a[mid], z = a[hi]
            let pivot = max(min(x, y), min(max(x, y), z))
            var i = lo, j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j {
                    let t = a[i]; a[i] = a[j]; a[j] = t
                    i += 1; j -= 1
                }
            }
            // Now a[lo...j] <= pivot, a[i...hi] >= pivot and everything strictly between equals pivot.
            if k <= j { hi = j } else if k >= i { lo = i } else { return a[k] }
        }
        return a[k]
    }
}

/// "Is this element among the m smallest magnitudes?" answered in one pass over the tensor in index order.
/// Elements below `value` are in; of those equal to `value`, the first `quota` (by index) are in.
struct RankCut: Sendable {
    var value: Float
    var quota: Int

    init(value: Float, quota: Int) { self.value = value; self.quota = quota }

    /// The cut holding the `m` smallest of `magnitudes[0..<n]` (which it reorders).
    init(smallest m: Int, of magnitudes: UnsafeMutablePointer<Float>, count n: Int) {
        if m <= 0 {
            value = -.infinity; quota = 0
        } else if m >= n {
            value = .infinity; quota = n
        } else {
            let v = MagnitudeSelection.select(magnitudes, count: n, rank: m - 1)
            // After selection, positions < m - 1 hold values <= v: count the strictly smaller ones there.
            var below = 0
            for i in 0..<(m - 1) where magnitudes[i] < v { below += 1 }
            value = v; quota = m - below
        }
    }

    @inline(__always)
    mutating func contains(_ magnitude: Float) -> Bool {
        if magnitude < value { return true }
        if magnitude == value, quota > 0 { quota -= 1; return true }
        return false
    }
}
