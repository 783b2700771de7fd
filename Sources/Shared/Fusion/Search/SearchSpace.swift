/// What a merge search may choose from: candidate models (top-k by validation F1, best first), merge methods,
/// parameter subsets, how many inference instructions the candidates were trained with, and fixed method parameters.
public struct SearchSpace: Codable, Sendable, Equatable {
    /// Model directories, best first: candidates[0] is the top-1 model (source of tensors outside the subset).
    public var candidates: [String]
    public var methods: [MergeMethodKind]
    public var subsets: [ParameterSubset]
    /// Number of distinct instructions the candidates were trained with (1: no instruction choice).
    public var instructionCount: Int
    /// Base model for task-vector methods (task_arithmetic, ties, dare_*, breadcrumbs*).
    public var baseModel: String?
    /// Per method name, fixed parameters (e.g. `ties: {density: 0.5}`); defaults fill what is missing.
    public var methodParameters: [String: [String: Double]]

    public init(candidates: [String], methods: [MergeMethodKind] = [.linear], subsets: [ParameterSubset] = [.all],
                instructionCount: Int = 1, baseModel: String? = nil, methodParameters: [String: [String: Double]] = [:]) {
        self.candidates = candidates
        self.methods = methods
        self.subsets = subsets
        self.instructionCount = instructionCount
        self.baseModel = baseModel
        self.methodParameters = methodParameters
    }

    /// Parameters when the space does not set them: mergekit's usual choices.
    public static func defaultParameters(_ m: MergeMethodKind) -> [String: Double] {
        switch m {
        case .linear, .slerp: return [:]
        case .taskArithmetic: return ["lambda": 1]
        case .ties, .dareTies, .dareLinear: return ["density": 0.5, "lambda": 1]
        case .breadcrumbs, .breadcrumbsTies: return ["density": 0.9, "gamma": 0.01, "lambda": 1]
        }
    }

    public func parameters(for m: MergeMethodKind) -> [String: Double] {
        Self.defaultParameters(m).merging(methodParameters[m.rawValue] ?? [:]) { _, given in given }
    }

    public func validate() throws {
        guard !candidates.isEmpty else { throw SearchError.badSpace("no candidate models") }
        guard !methods.isEmpty else { throw SearchError.badSpace("no merge methods") }
        guard !subsets.isEmpty else { throw SearchError.badSpace("no parameter subsets") }
        guard instructionCount >= 1 else { throw SearchError.badSpace("instructionCount must be at least 1") }
        guard Set(subsets).count == subsets.count else { throw SearchError.badSpace("subsets are listed twice") }
        guard Set(methods).count == methods.count else { throw SearchError.badSpace("methods are listed twice") }
        for m in methods where m.usesTaskVectors && baseModel == nil {
            throw SearchError.badSpace("\(m.rawValue) needs a base model (set baseModel)")
        }
        if methods.contains(.slerp), candidates.count < 2 { throw SearchError.badSpace("slerp needs at least two candidates") }
        for key in methodParameters.keys where MergeMethodKind(rawValue: key) == nil {
            throw SearchError.badSpace("methodParameters names unknown method '\(key)'")
        }
    }
}

/// Tuning of the strategies; the defaults are what the tests and `make demo` use.
public struct SearchOptions: Codable, Sendable, Equatable {
    /// Thompson: prior of every posterior.
    public var prior = BetaPosterior(alpha: 1, beta: 1)
    /// Success threshold before any result: e.g. the top-1 model's own validation F1 (nil: the first result succeeds).
    public var baselineF1: Double?
    /// Each candidate's own validation F1, in the space's candidate order: the first arm's weights are proportional
    /// to them (nil: the strategy chooses the first weights too).
    public var candidateF1: [Double]?
    /// Epsilon-greedy: probability of a fully random arm.
    public var epsilon = 0.2
    /// Epsilon-greedy: standard deviation of the Gaussian added to the best arm's weights.
    public var perturbation = 0.1
    /// UCB1: exploration coefficient c in mean + c * sqrt(ln N / n).
    public var ucbExploration = 2.0.squareRoot()
    /// UCB1: most arms in the discretised set (the weight grid gets coarser to stay under it).
    public var ucbMaxArms = 256
    /// UCB1: finest weight grid step is 1 / ucbResolution.
    public var ucbResolution = 10

    public init() {}

    /// The first arm's weights: `candidateF1` normalised, when it fits the space and sums to more than 0.
    func initialWeights(candidates: Int) -> [Double]? {
        guard let f1 = candidateF1, f1.count == candidates, f1.allSatisfy({ $0.isFinite && $0 >= 0 }) else { return nil }
        let total = f1.reduce(0, +)
        return total > 0 ? f1.map { $0 / total } : nil
    }
}
