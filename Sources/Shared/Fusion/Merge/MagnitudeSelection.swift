/// Order statistics of magnitudes in O(n) without sorting or reordering: a radix select over the float bit
/// patterns (non-negative floats order like their UInt32 bits), three histogram passes of 11/11/10 bits.
/// The passes are branch-light, so this runs at memory speed; ties are broken by element index, which makes
/// every cut exact and deterministic.
enum MagnitudeSelection {
    /// |x| with NaN ranked as the largest magnitude, so corrupt values cannot break the ordering.
    @inline(__always)
    static func magnitude(_ x: Float) -> Float {
        let a = abs(x)
        return a.isNaN ? .infinity : a
    }

    /// The value of rank `k` (0-based, ascending) among the non-negative `a[0..<n]`, and how many elements
    /// are strictly smaller than it. `a` is left untouched.
    static func select(_ a: UnsafePointer<Float>, count n: Int, rank k: Int) -> (value: Float, below: Int) {
        precondition(k >= 0 && k < n)
        let bits = UnsafeRawPointer(a).assumingMemoryBound(to: UInt32.self)
        var prefix: UInt32 = 0      // high bits fixed so far
        var prefixMask: UInt32 = 0  // which bits `prefix` fixes
        var below = 0               // elements known to be smaller than every candidate
        var rank = k                // rank within the remaining candidates
        let hist = UnsafeMutablePointer<Int>.allocate(capacity: 2048)
        defer { hist.deallocate() }
        for (shift, width) in [(21, 11), (10, 11), (0, 10)] as [(UInt32, UInt32)] {
            let buckets = 1 << Int(width)
            hist.initialize(repeating: 0, count: buckets)
            let mask = UInt32(buckets - 1)
            if prefixMask == 0 {
                for i in 0..<n { hist[Int((bits[i] >> shift) & mask)] += 1 }
            } else {
                for i in 0..<n where bits[i] & prefixMask == prefix { hist[Int((bits[i] >> shift) & mask)] += 1 }
            }
            var b = 0
            while rank >= hist[b] { rank -= hist[b]; below += hist[b]; b += 1 }
            prefix |= UInt32(b) << shift
            prefixMask |= mask << shift
        }
        return (Float(bitPattern: prefix), below)
    }
}

/// "Is this element among the m smallest magnitudes?" answered in one pass over the tensor in index order.
/// Elements below `value` are in; of those equal to `value`, the first `quota` (by index) are in.
struct RankCut: Sendable {
    var value: Float
    var quota: Int

    init(value: Float, quota: Int) { self.value = value; self.quota = quota }

    /// The cut holding the `m` smallest of the non-negative `magnitudes[0..<n]`.
    init(smallest m: Int, of magnitudes: UnsafePointer<Float>, count n: Int) {
        if m <= 0 {
            value = -.infinity; quota = 0
        } else if m >= n {
            value = .infinity; quota = n
        } else {
            let (v, below) = MagnitudeSelection.select(magnitudes, count: n, rank: m - 1)
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
