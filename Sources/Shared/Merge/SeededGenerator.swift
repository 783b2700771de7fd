/// A small, fast, seedable PRNG (xoshiro256**, seeded through SplitMix64) whose state is Codable,
/// so merges (DARE) and searches replay exactly from a seed or from persisted state.
public struct SeededGenerator: RandomNumberGenerator, Codable, Sendable, Hashable {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        s0 = Self.splitMix(&sm); s1 = Self.splitMix(&sm); s2 = Self.splitMix(&sm); s3 = Self.splitMix(&sm)
        // xoshiro must not start from the all-zero state; SplitMix64 never yields four zeros, but be explicit.
        if s0 | s1 | s2 | s3 == 0 { s0 = 0x9E37_79B9_7F4A_7C15 }
    }

    /// A generator for one named sub-stream (e.g. one tensor of one model), independent of the order streams are used.
    public init(seed: UInt64, stream: String, index: Int = 0) {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 // FNV-1a: stable across processes, unlike Swift's Hasher
        for b in stream.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        var mix = seed ^ (h &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03)
        self.init(seed: Self.splitMix(&mix))
    }

    @inline(__always)
    static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in (0, 1]: safe to take a logarithm of.
    @inline(__always)
    public mutating func nextOpenUnit() -> Double { Double((next() >> 11) + 1) * 0x1p-53 }
}
