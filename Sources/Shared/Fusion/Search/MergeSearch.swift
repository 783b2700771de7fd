import Runtime
/// The merge search engine, ask/tell style: `ask()` hands out an arm, `tell(id, f1:)` reports its validation F1,
/// in any order and with any number of arms in flight (a cluster evaluates many at once).
///
/// Success rule (all strategies see it; Thompson learns from it): a result is a success when its F1 is strictly
/// above the reference the arm was proposed from — the best F1 known when it was handed out, starting from
/// `options.baselineF1` (the best single candidate's F1 in a merge search; without a baseline the first result
/// always succeeds). Measuring against the reference at proposal, not at arrival, keeps credit fair when many arms
/// are in flight: an arm that improved on what it was proposed from is not failed because a sibling finished first.
///
/// The first arm's weights are proportional to the candidates' own F1 (`options.candidateF1`, the paper's
/// initialisation) when they are known; its subset and method come from the strategy.
///
/// Deterministic: the same seed and the same sequence of ask/tell calls give the same arms. A value type and
/// Codable, so a coordinator can persist the whole state (posteriors, pending arms, history, generator) and resume.
public struct MergeSearch: Codable, Sendable {
    public let space: SearchSpace
    public let options: SearchOptions
    public let kind: SearchStrategyKind
    public private(set) var strategy: Strategy
    private var rng: SeededGenerator
    private var nextID: Int
    /// Arms handed out and not yet reported, in ask order.
    public private(set) var pending: [PendingArm]
    public private(set) var history: [SearchRecord]
    /// Best reported arm and its F1 (the first of equals).
    public private(set) var best: SearchRecord?
    /// The strategy's view of the best arm (epsilon-greedy perturbs it).
    private var bestChoice: ArmChoice?

    /// A strategy's state (Codable enum so the engine serialises whatever strategy it runs).
    public enum Strategy: Codable, Sendable, Equatable {
        case thompson(ThompsonStrategy)
        case random(RandomStrategy)
        case epsilonGreedy(EpsilonGreedyStrategy)
        case ucb(UCBStrategy)
    }

    /// An arm in flight, with the strategy's own view of it.
    public struct PendingArm: Codable, Sendable, Equatable {
        public let arm: MergeArm
        public let choice: ArmChoice
        /// The F1 this arm must beat to count as a success: the best known when it was proposed (nil: none yet,
        /// and for arms stored before this field existed).
        public let reference: Double?
    }

    public init(space: SearchSpace, strategy kind: SearchStrategyKind, seed: UInt64, options: SearchOptions = SearchOptions()) throws {
        try space.validate()
        self.space = space
        self.options = options
        self.kind = kind
        switch kind {
        case .thompson: strategy = .thompson(ThompsonStrategy(space, options))
        case .random: strategy = .random(RandomStrategy())
        case .epsilonGreedy: strategy = .epsilonGreedy(EpsilonGreedyStrategy())
        case .ucb: strategy = .ucb(UCBStrategy(space, options))
        }
        // Distinct streams per strategy, so a thompson and a random run with the same seed are not correlated.
        rng = SeededGenerator(seed: seed, stream: "merge-search/" + kind.rawValue)
        nextID = 1
        pending = []
        history = []
    }

    /// Arms handed out but not reported.
    public var inFlight: [MergeArm] { pending.map(\.arm) }

    /// The next arm to evaluate.
    public mutating func ask() -> MergeArm {
        let context = SearchContext(best: bestChoice, bestF1: best?.f1,
                                    completed: history.count, inFlight: pending.map(\.choice))
        var choice: ArmChoice
        switch strategy {
        case .thompson(var s): choice = s.propose(space, options, context, &rng); strategy = .thompson(s)
        case .random(var s): choice = s.propose(space, options, context, &rng); strategy = .random(s)
        case .epsilonGreedy(var s): choice = s.propose(space, options, context, &rng); strategy = .epsilonGreedy(s)
        case .ucb(var s): choice = s.propose(space, options, context, &rng); strategy = .ucb(s)
        }
        if history.isEmpty, pending.isEmpty, let initial = options.initialWeights(candidates: space.candidates.count) {
            choice.weights = initial
        }
        let method = space.methods[choice.method]
        let arm = MergeArm(id: ArmID(nextID), method: method, weights: choice.weights, subset: space.subsets[choice.subset],
                           instruction: space.instructionCount > 1 ? choice.instruction : nil,
                           parameters: space.parameters(for: method))
        nextID += 1
        pending.append(PendingArm(arm: arm, choice: choice, reference: best?.f1 ?? options.baselineF1))
        return arm
    }

    /// Reports an arm's validation F1 (in [0, 1]) and how long building and scoring it took.
    @discardableResult
    public mutating func tell(_ id: ArmID, f1: Double, seconds: Double = 0) throws -> SearchRecord {
        guard let i = pending.firstIndex(where: { $0.arm.id == id }) else { throw SearchError.unknownArm(id) }
        guard f1.isFinite, (0...1).contains(f1) else { throw SearchError.badReward(id, f1) }
        let p = pending.remove(at: i)
        let threshold = p.reference ?? -Double.infinity
        let success = f1 > threshold
        switch strategy {
        case .thompson(var s): s.observe(p.choice, f1: f1, success: success, space, options); strategy = .thompson(s)
        case .random(var s): s.observe(p.choice, f1: f1, success: success, space, options); strategy = .random(s)
        case .epsilonGreedy(var s): s.observe(p.choice, f1: f1, success: success, space, options); strategy = .epsilonGreedy(s)
        case .ucb(var s): s.observe(p.choice, f1: f1, success: success, space, options); strategy = .ucb(s)
        }
        let record = SearchRecord(iteration: history.count + 1, arm: id, strategy: kind, method: p.arm.method,
                                  weights: p.arm.weights, subset: p.arm.subset, instruction: p.arm.instruction,
                                  parameters: p.arm.parameters, f1: f1, seconds: seconds, success: success,
                                  bestF1: max(f1, best?.f1 ?? -Double.infinity))
        history.append(record)
        if f1 > (best?.f1 ?? -Double.infinity) {
            best = record
            bestChoice = p.choice
        }
        return record
    }

    /// Forgets an arm that will never report (its worker died and the arm is not retried).
    public mutating func abandon(_ id: ArmID) throws {
        guard let i = pending.firstIndex(where: { $0.arm.id == id }) else { throw SearchError.unknownArm(id) }
        pending.remove(at: i)
    }


    /// Posterior parameters by label (`weight:MODEL`, `subset:NAME`, `method:NAME`, `instruction:N`), for status
    /// displays; empty for strategies without posteriors.
    public var posteriors: [(label: String, posterior: BetaPosterior)] {
        guard case .thompson(let s) = strategy else { return [] }
        var out: [(String, BetaPosterior)] = []
        for (c, p) in zip(space.candidates, s.weights) { out.append(("weight:" + c, p)) }
        for (x, p) in zip(space.subsets, s.subsets) { out.append(("subset:" + x.description, p)) }
        if space.methods.count > 1 { for (m, p) in zip(space.methods, s.methods) { out.append(("method:" + m.rawValue, p)) } }
        if space.instructionCount > 1 { for (i, p) in s.instructions.enumerated() { out.append(("instruction:\(i)", p)) } }
        return out
    }
}
