/// A merge search as written in its YAML file: what `uniguard merge-search --config` runs and what a
/// `kind: merge-search` cluster job submits (one format, read by `MergeSearchSpecParser`). Paths are absolute.
public struct MergeSearchSpec: Codable, Sendable, Equatable {
    /// Display name (default: the file's name).
    public var name: String
    /// Candidate model directories (globs expanded), in the order written; ranking keeps the top k.
    public var candidates: [String]
    /// Candidates kept after ranking by their own validation F1 (a merge needs at least 2).
    public var topK: Int = 3
    /// Policy whose validation samples count; nil: the first candidate's.
    public var policy: String?
    /// Validation samples (JSONL): the reward is F1 on them.
    public var validation: String
    public var methods: [MergeMethodKind] = MergeSearchSpec.defaultMethods
    public var subsets: [ParameterSubset] = MergeSearchSpec.defaultSubsets
    /// Per method name, fixed method parameters (e.g. ties: {density: 0.5}).
    public var methodParameters: [String: [String: Double]] = [:]
    /// One search per strategy; a cluster job runs exactly one.
    public var strategies: [SearchStrategyKind] = [.thompson]
    /// Arms to evaluate per strategy.
    public var iterations: Int = 30
    /// The largest `iterations` a spec may ask for.
    public static let mostIterations = 1_000_000
    /// Most arms in flight on a cluster; 0: as many as there are free worker slots. A local run scores one at a time.
    public var batch: Int = 0
    public var seed: UInt64 = 0
    /// Base model for task-vector methods (TIES, DARE, task arithmetic, breadcrumbs); nil when no method needs one.
    public var baseModel: String?

    // Cluster job keys (a local run rejects them).
    /// Validation shards per arm: each arm becomes this many tasks whose counts are summed.
    public var validationShards: Int = 1
    /// Policy instruction sent with each task (the classifier evaluator uses the model's own metadata).
    public var policyInstruction: String = ""
    /// Decision threshold sent with each task (the classifier evaluator uses the model's own metadata).
    public var threshold: Double = 0.5
    /// Success threshold before any result (e.g. the top-1 model's own F1), if known.
    public var baselineF1: Double?
    /// Arm evaluator ("classifier", or "weight-sign" for tests and smoke runs).
    public var evaluator: String = ArmEvaluatorRegistry.classifier
    /// Evaluator knobs (e.g. weight-sign's min_ms).
    public var evaluatorOptions: [String: Double] = [:]
    /// Where a cluster job exports its best arm; nil: `<exports>/<job id>/best` from cluster.conf.
    public var output: String?

    public static let defaultMethods: [MergeMethodKind] = [.linear, .ties, .slerp]
    public static let defaultSubsets: [ParameterSubset] = [.all, .attention, .attentionOutput, .allButClassifier]

    public init(name: String, candidates: [String], validation: String) {
        self.name = name
        self.candidates = candidates
        self.validation = validation
    }

    /// The search space over `candidates` (ranked, best first).
    public func searchSpace(candidates: [String], instructionCount: Int) -> SearchSpace {
        SearchSpace(candidates: candidates, methods: methods, subsets: subsets, instructionCount: instructionCount,
                    baseModel: baseModel, methodParameters: methodParameters)
    }

    public var searchOptions: SearchOptions {
        var options = SearchOptions()
        options.baselineF1 = baselineF1
        return options
    }

    /// Whether any method merges task vectors (and so needs the base model).
    public var needsBaseModel: Bool { methods.contains(where: \.usesTaskVectors) }
}
