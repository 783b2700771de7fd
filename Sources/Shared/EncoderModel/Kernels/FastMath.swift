/// Vectorised exp and erf accurate to a few float ulps: libm's scalar erff/expf cost ~20 ns an element,
/// which would dominate GELU and softmax (PLATFORM.md).
public enum FastMath {
    public typealias V = SIMD16<Float>

    /// e^x (Cephes expf polynomial with Cody-Waite range reduction), relative error ~2e-7.
    @inline(__always)
    public static func exp(_ xIn: V) -> V {
        var x = xIn
        x.replace(with: V(repeating: 88.3762626647949), where: x .> 88.3762626647949)
        x.replace(with: V(repeating: -87.3365478515625), where: x .< -87.3365478515625)
        // Round x*log2(e) to an integer by adding 1.5*2^23: the integer lands in the low mantissa bits.
        // (SIMD rounding and Float->Int32 vector conversion compile to slow per-lane generic code.)
        let shifted = x * 1.44269504088896341 + 12582912
        let fx = shifted - 12582912
        let n = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        x = x - fx * 0.693359375
        x = x - fx * -2.12194440e-4
        let z = x * x
        var y = V(repeating: 1.9875691500E-4)
        y = y * x + 1.3981999507E-3
        y = y * x + 8.3334519073E-3
        y = y * x + 4.1665795894E-2
        y = y * x + 1.6666665459E-1
        y = y * x + 5.0000001201E-1
        y = y * z + x + 1
        let pow2 = unsafeBitCast((n &+ 127) &<< 23, to: V.self)
        return y * pow2
    }

    /// erf(x) as a rational approximation (the Eigen/XLA coefficients), absolute error ~1e-7; exact ±1 past |x| = 4.
    @inline(__always)
    public static func erf(_ xIn: V) -> V {
        var x = xIn
        x.replace(with: V(repeating: 4), where: x .> 4)
        x.replace(with: V(repeating: -4), where: x .< -4)
        let x2 = x * x
        var p = x2 * -2.72614225801306e-10 + 2.77068142495902e-08
        p = x2 * p + -2.10102402082508e-06
        p = x2 * p + -5.69250639462346e-05
        p = x2 * p + -7.34990630326855e-04
        p = x2 * p + -2.95459980854025e-03
        p = x2 * p + -1.60960333262415e-02
        p = x * p
        var q = x2 * -1.45660718464996e-05 + -2.13374055278905e-04
        q = x2 * q + -1.68282697438203e-03
        q = x2 * q + -7.37332916720468e-03
        q = x2 * q + -1.42647390514189e-02
        return p / q
    }

    @inline(__always)
    public static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    public static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// Applies a vector function over n floats; the tail goes through a zero-padded vector.
    @inline(__always)
    public static func map(_ n: Int, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ f: (V) -> V) {
        var i = 0
        while i + 16 <= n { store(f(load(src + i)), dst + i); i += 16 }
        if i < n {
            var v = V(repeating: 0)
            for j in 0..<(n - i) { v[j] = src[i + j] }
            let r = f(v)
            for j in 0..<(n - i) { dst[i + j] = r[j] }
        }
    }

    /// Sum of n floats with vector partial sums (plain float loops do not vectorise).
    @inline(__always)
    public static func sum(_ n: Int, _ p: UnsafePointer<Float>) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 16 <= n { acc += load(p + i); i += 16 }
        var s = acc.sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    /// Maximum of n floats (n > 0).
    @inline(__always)
    public static func max(_ n: Int, _ p: UnsafePointer<Float>) -> Float {
        var m = -Float.infinity
        var i = 0
        if n >= 16 {
            var acc = load(p)
            i = 16
            while i + 16 <= n { let v = load(p + i); acc.replace(with: v, where: v .> acc); i += 16 }
            m = acc.max()
        }
        while i < n { if p[i] > m { m = p[i] }; i += 1 }
        return m
    }
}
