import Foundation

/// Deterministic randomness for training: a seedable xoshiro256** stream (weight initialisation, shuffling)
/// plus stateless counter hashing (dropout masks that depend only on seed, sample and position, not on
/// thread scheduling or how a batch is split across workers).
public struct RandomSource: RandomNumberGenerator, Codable, Sendable, Hashable {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        s0 = Self.splitMix(&x); s1 = Self.splitMix(&x); s2 = Self.splitMix(&x); s3 = Self.splitMix(&x)
        if s0 | s1 | s2 | s3 == 0 { s0 = 0x9E37_79B9_7F4A_7C15 }  // xoshiro must not start all-zero
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

    /// Uniform in [0, 1) with 24 random bits (every value exactly representable).
    @inline(__always)
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A standard normal sample (Box-Muller on 53-bit uniforms, cosine branch only, so one draw per call).
    public mutating func nextNormal() -> Float {
        let u1 = Double((next() >> 11) + 1) * 0x1p-53  // (0, 1]: safe for log
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// Fills `count` floats with normal(0, std) samples (BERT's weight initialisation uses std 0.02).
    public mutating func fillNormal(_ p: UnsafeMutablePointer<Float>, count: Int, std: Float) {
        for i in 0..<count { p[i] = nextNormal() * std }
    }

    @inline(__always)
    static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        return mix(x)
    }

    /// The SplitMix64 finaliser: a bijective 64-bit mix whose outputs pass BigCrush on counter inputs.
    @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A stream key derived from a seed and up to three identifiers (e.g. step, site, row); order matters.
    @inline(__always)
    public static func key(_ seed: UInt64, _ a: UInt64, _ b: UInt64 = 0, _ c: UInt64 = 0) -> UInt64 {
        var k = mix(seed &+ 0x9E37_79B9_7F4A_7C15)
        k = mix(k ^ (a &* 0xD1B5_4A32_D192_ED03))
        k = mix(k ^ (b &* 0xA24B_AED4_963E_E407))
        return mix(k ^ (c &* 0x9FB2_1C65_1E98_DF25))
    }

    /// The `counter`-th 64-bit value of the stream `key` (counter-based: any element, any order, any thread).
    @inline(__always)
    public static func at(_ key: UInt64, _ counter: UInt64) -> UInt64 {
        mix(key ^ (counter &* 0x9E37_79B9_7F4A_7C15))
    }
}
