import Runtime
/// Epsilon-greedy: with probability ε (or before any result) a random arm; otherwise the best arm so far with
/// Gaussian noise (σ = `perturbation`) added to its weights, clipped at 0 and renormalised, keeping its subset,
/// method and instruction (the random branch is what explores those).
public struct EpsilonGreedyStrategy: SearchStrategy, Equatable {
    public init() {}

    mutating func propose(_ space: SearchSpace, _ options: SearchOptions, _ context: SearchContext,
                          _ rng: inout SeededGenerator) -> ArmChoice {
        let explore = rng.nextUnit() < options.epsilon
        guard !explore, let best = context.best else { return RandomArm.draw(space, &rng) }
        var w = best.weights.map { max($0 + options.perturbation * GammaSampler.normal(&rng), 0) }
        let total = w.reduce(0, +)
        w = total > 0 ? w.map { $0 / total } : [Double](repeating: 1 / Double(w.count), count: w.count)
        return ArmChoice(weights: w, subset: best.subset, method: best.method, instruction: best.instruction)
    }

    mutating func observe(_ choice: ArmChoice, f1: Double, success: Bool, _ space: SearchSpace, _ options: SearchOptions) {}
}
