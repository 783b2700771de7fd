import Runtime
/// The search strategies: Thompson sampling over Beta posteriors, random (Dirichlet) search, epsilon-greedy
/// around the best arm, and UCB1 over a discretised arm set.
public enum SearchStrategyKind: String, Codable, Sendable, CaseIterable {
    case thompson
    case random
    case epsilonGreedy = "epsilon-greedy"
    case ucb
}

/// A strategy's pick, as indices into the space (the engine turns it into a `MergeArm`).
public struct ArmChoice: Codable, Sendable, Hashable {
    public var weights: [Double]
    public var subset: Int
    public var method: Int
    public var instruction: Int
    /// UCB only: which member of the discretised arm set this is.
    public var gridIndex: Int?

    public init(weights: [Double], subset: Int = 0, method: Int = 0, instruction: Int = 0, gridIndex: Int? = nil) {
        self.weights = weights
        self.subset = subset
        self.method = method
        self.instruction = instruction
        self.gridIndex = gridIndex
    }
}

/// What the engine knows when a strategy proposes: the best completed arm and the arms still in flight.
struct SearchContext {
    var best: ArmChoice?
    var bestF1: Double?
    var completed: Int
    var inFlight: [ArmChoice]
}

/// One strategy's state and rules. Value types, Codable: the engine's whole state serialises.
protocol SearchStrategy: Codable, Sendable {
    mutating func propose(_ space: SearchSpace, _ options: SearchOptions, _ context: SearchContext,
                          _ rng: inout SeededGenerator) -> ArmChoice
    /// `success` follows the engine's rule: F1 beat the best F1 known when the result arrived.
    mutating func observe(_ choice: ArmChoice, f1: Double, success: Bool, _ space: SearchSpace, _ options: SearchOptions)
}

/// Uniformly random arms: Dirichlet(1) weights (uniform on the simplex), uniform subset, method and instruction.
enum RandomArm {
    static func draw(_ space: SearchSpace, _ rng: inout SeededGenerator) -> ArmChoice {
        let w = GammaSampler.dirichlet(count: space.candidates.count, alpha: 1, &rng)
        return ArmChoice(weights: w,
                         subset: uniform(space.subsets.count, &rng),
                         method: uniform(space.methods.count, &rng),
                         instruction: uniform(space.instructionCount, &rng))
    }

    /// Uniform index in 0..<n without drawing when n == 1 (keeps single-choice spaces' random streams simple).
    static func uniform(_ n: Int, _ rng: inout SeededGenerator) -> Int {
        n <= 1 ? 0 : Int(rng.next() % UInt64(n))
    }
}
