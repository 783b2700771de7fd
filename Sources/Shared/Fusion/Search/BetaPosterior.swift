import Runtime
/// A Beta(α, β) belief that a component (a model's weight, a subset, a method) leads to improvements.
public struct BetaPosterior: Codable, Sendable, Hashable {
    public var alpha: Double
    public var beta: Double

    public init(alpha: Double = 1, beta: Double = 1) {
        self.alpha = alpha
        self.beta = beta
    }

    public var mean: Double { alpha / (alpha + beta) }

    /// A draw X / (X + Y) with X ~ Gamma(α), Y ~ Gamma(β) (Marsaglia–Tsang).
    public func sample(_ rng: inout SeededGenerator) -> Double {
        let x = GammaSampler.gamma(shape: alpha, &rng)
        let y = GammaSampler.gamma(shape: beta, &rng)
        // Both can underflow to 0 for tiny shapes; the midpoint is the neutral answer then.
        return x + y > 0 ? x / (x + y) : 0.5
    }

    /// Adds `amount` of evidence: to α on success, to β on failure.
    public mutating func record(success: Bool, amount: Double = 1) {
        if success { alpha += amount } else { beta += amount }
    }
}
