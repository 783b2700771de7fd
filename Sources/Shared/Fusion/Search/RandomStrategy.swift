import Runtime
/// Random search: every arm is an independent draw (Dirichlet weights via Gamma(1), uniform subset/method/instruction).
public struct RandomStrategy: SearchStrategy, Equatable {
    public init() {}

    mutating func propose(_ space: SearchSpace, _ options: SearchOptions, _ context: SearchContext,
                          _ rng: inout SeededGenerator) -> ArmChoice {
        RandomArm.draw(space, &rng)
    }

    mutating func observe(_ choice: ArmChoice, f1: Double, success: Bool, _ space: SearchSpace, _ options: SearchOptions) {}
}
