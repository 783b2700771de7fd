import Runtime
/// Thompson sampling (DESIGN.md §4): a Beta posterior per candidate model's weight, per subset, per method and
/// per instruction.
///
/// Ask: sample every weight posterior and normalise the samples into weights; for subset, method and instruction
/// take the option whose sampled value is highest.
///
/// Tell (the engine decides `success`: F1 strictly above the best F1 known when the arm was proposed, starting
/// from `SearchOptions.baselineF1`):
/// - subset, method, instruction: the chosen one gets α += 1 on success, β += 1 on failure.
/// - model weights: every model takes part in every arm, so crediting all of them alike would move the weight
///   posteriors together and learn nothing. Instead a success credits the *direction* the arm moved: with
///   ŵ_i the weights the posteriors currently imply (means, normalised) and d_i = w_i - ŵ_i, model i gets
///   |d_i| / max_j |d_j| of a unit, on α when d_i > 0 (more of this model helped) and on β when d_i < 0.
///   Failures leave the weight posteriors alone: under the strict beats-the-best rule almost every late arm
///   fails, and a failed random perturbation says little about direction (counting failures as β in proportion
///   to weight was tried and learned markedly slower on the synthetic benchmark in SearchThompsonTests).
public struct ThompsonStrategy: SearchStrategy, Equatable {
    public var weights: [BetaPosterior]
    public var subsets: [BetaPosterior]
    public var methods: [BetaPosterior]
    public var instructions: [BetaPosterior]

    init(_ space: SearchSpace, _ options: SearchOptions) {
        weights = Array(repeating: options.prior, count: space.candidates.count)
        subsets = Array(repeating: options.prior, count: space.subsets.count)
        methods = Array(repeating: options.prior, count: space.methods.count)
        instructions = Array(repeating: options.prior, count: space.instructionCount)
    }

    /// The weights the posteriors currently imply: normalised means.
    public var impliedWeights: [Double] {
        let means = weights.map(\.mean)
        let total = means.reduce(0, +)
        return means.map { $0 / total }
    }

    mutating func propose(_ space: SearchSpace, _ options: SearchOptions, _ context: SearchContext,
                          _ rng: inout SeededGenerator) -> ArmChoice {
        let theta = weights.map { $0.sample(&rng) }
        let total = theta.reduce(0, +)
        let w = total > 0 ? theta.map { $0 / total } : [Double](repeating: 1 / Double(theta.count), count: theta.count)
        return ArmChoice(weights: w, subset: Self.pick(subsets, &rng), method: Self.pick(methods, &rng),
                         instruction: Self.pick(instructions, &rng))
    }

    /// Index of the highest sample (lowest index on ties); no draw when there is a single option.
    static func pick(_ posteriors: [BetaPosterior], _ rng: inout SeededGenerator) -> Int {
        guard posteriors.count > 1 else { return 0 }
        var best = 0, bestValue = -1.0
        for (i, p) in posteriors.enumerated() {
            let v = p.sample(&rng)
            if v > bestValue { best = i; bestValue = v }
        }
        return best
    }

    mutating func observe(_ choice: ArmChoice, f1: Double, success: Bool, _ space: SearchSpace, _ options: SearchOptions) {
        if success && choice.weights.count == weights.count {
            let implied = impliedWeights
            let deviations = zip(choice.weights, implied).map { $0 - $1 }
            let largest = deviations.map(abs).max() ?? 0
            if largest > 1e-12 {
                for (i, d) in deviations.enumerated() where d != 0 {
                    weights[i].record(success: d > 0, amount: abs(d) / largest)
                }
            }
        }
        subsets[choice.subset].record(success: success)
        if methods.count > 1 { methods[choice.method].record(success: success) }
        if instructions.count > 1 { instructions[choice.instruction].record(success: success) }
    }
}
