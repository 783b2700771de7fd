/// The merge and search code's name for the project's one seedable generator (xoshiro256** seeded through
/// SplitMix64, Codable so merges (DARE) and searches replay exactly from a seed or from persisted state).
public typealias SeededGenerator = RandomSource

extension RandomSource {
    /// A generator for one named sub-stream (e.g. one tensor of one model), independent of the order streams are used.
    public init(seed: UInt64, stream: String, index: Int = 0) {
        let h = FNV1a.hash64(stream) // stable across processes, unlike Swift's Hasher
        var mix = seed ^ (h &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03)
        self.init(seed: Self.splitMix(&mix))
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in (0, 1]: safe to take a logarithm of.
    @inline(__always)
    public mutating func nextOpenUnit() -> Double { Double((next() >> 11) + 1) * 0x1p-53 }
}
