import Foundation
import Runtime

/// Gamma, normal and Dirichlet draws from a `SeededGenerator`, so every strategy replays exactly from a seed.
public enum GammaSampler {
    /// Standard normal by Box–Muller (one value per call: no cached spare, so the state is just the generator).
    public static func normal(_ rng: inout SeededGenerator) -> Double {
        let u1 = rng.nextOpenUnit(), u2 = rng.nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Gamma(shape, 1) by Marsaglia & Tsang (2000); shapes below 1 use the boost Gamma(a+1) * U^(1/a).
    public static func gamma(shape a: Double, _ rng: inout SeededGenerator) -> Double {
        precondition(a > 0 && a.isFinite, "gamma shape must be positive")
        if a < 1 {
            let g = gamma(shape: a + 1, &rng)
            return g * pow(rng.nextOpenUnit(), 1 / a)
        }
        let d = a - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            let x = normal(&rng)
            var v = 1 + c * x
            if v <= 0 { continue }
            v = v * v * v
            let u = rng.nextOpenUnit()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// Dirichlet(alpha, …, alpha) over `count` components via normalised Gamma draws (alpha 1: uniform on the simplex).
    public static func dirichlet(count: Int, alpha: Double = 1, _ rng: inout SeededGenerator) -> [Double] {
        let g = (0..<count).map { _ in gamma(shape: alpha, &rng) }
        let s = g.reduce(0, +)
        return s > 0 ? g.map { $0 / s } : [Double](repeating: 1 / Double(count), count: count)
    }
}
