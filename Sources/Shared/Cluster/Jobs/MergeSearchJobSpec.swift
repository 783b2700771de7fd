import Fusion
/// A `kind: merge-search` job as the coordinator runs it: the search space, budget and validation data.
///
/// The job file is the `uniguard merge-search` YAML (`MergeSearchConfig` keys) plus cluster keys
/// (`validation_shards`, `evaluator`, `evaluator_options`, `output`, `name`, `baseline_f1`). For the classifier
/// evaluator, submission ranks the candidates exactly like `LocalMergeSearch` (top_k by validation F1), so a
/// cluster run and a local run with the same seed search the same space. Paths are absolute on the coordinator.
public struct MergeSearchJobSpec: Codable, Sendable, Equatable {
    /// Display name (defaults to the job file's name).
    public var name: String
    /// Candidate model directories, best first (candidates[0] is the top-1 model).
    public var candidates: [String]
    /// Base model directory, required by task-vector methods.
    public var baseModel: String?
    public var methods: [MergeMethodKind]
    public var subsets: [ParameterSubset]
    /// Per method name, fixed method parameters (e.g. ties: {density: 0.5}).
    public var methodParameters: [String: [String: Double]]
    public var strategy: SearchStrategyKind
    /// Arms to evaluate in total.
    public var iterations: Int
    /// Most arms in flight at once; 0 means as many as there are free worker slots.
    public var batch: Int
    public var seed: UInt64
    /// Validation JSONL (one sample per line with "label": "safe" | "unsafe").
    public var validation: String
    /// Validation shards per arm: each arm becomes this many tasks whose counts are summed.
    public var validationShards: Int
    /// Policy instruction prepended to prompts at evaluation.
    public var policyInstruction: String
    /// Decision threshold on the unsafe probability.
    public var threshold: Double
    /// Success threshold before any result (the top-1 model's own F1), if known.
    public var baselineF1: Double?
    /// Arm evaluator the workers run ("classifier", or "weight-sign" for tests and smoke runs).
    public var evaluator: String
    public var evaluatorOptions: [String: Double]
    /// Where the best arm is exported; nil: `<exports>/<job id>/best` from cluster.conf.
    public var output: String?
    /// Policy whose validation samples count (nil: the top-1 candidate's policy).
    public var policy: String?
    /// Candidates kept after ranking (`top_k`); nil: all, in the order given.
    public var topK: Int?
    /// Distinct instructions among the candidates (nil: 1).
    public var instructionCount: Int?
    /// Each candidate's own validation F1 from the ranking at submission, best first.
    public var ranking: [CandidateScore]?

    /// One ranked candidate.
    public struct CandidateScore: Codable, Sendable, Equatable {
        public var path: String
        public var f1: Double
        public init(path: String, f1: Double) { self.path = path; self.f1 = f1 }
    }

    public init(name: String, candidates: [String], baseModel: String? = nil, methods: [MergeMethodKind] = [.linear],
                subsets: [ParameterSubset] = [.all], methodParameters: [String: [String: Double]] = [:],
                strategy: SearchStrategyKind = .thompson, iterations: Int, batch: Int = 0, seed: UInt64 = 0,
                validation: String, validationShards: Int = 1, policyInstruction: String = "",
                threshold: Double = 0.5, baselineF1: Double? = nil, evaluator: String = MergeSearchJobSpec.defaultEvaluator,
                evaluatorOptions: [String: Double] = [:], output: String? = nil) {
        self.name = name
        self.candidates = candidates
        self.baseModel = baseModel
        self.methods = methods
        self.subsets = subsets
        self.methodParameters = methodParameters
        self.strategy = strategy
        self.iterations = iterations
        self.batch = batch
        self.seed = seed
        self.validation = validation
        self.validationShards = validationShards
        self.policyInstruction = policyInstruction
        self.threshold = threshold
        self.baselineF1 = baselineF1
        self.evaluator = evaluator
        self.evaluatorOptions = evaluatorOptions
        self.output = output
    }

    /// The evaluator used when a job does not name one: the real classifier (see ArmEvaluating).
    public static let defaultEvaluator = "classifier"

    /// The search space the engine explores.
    public var searchSpace: SearchSpace {
        SearchSpace(candidates: candidates, methods: methods, subsets: subsets, instructionCount: instructionCount ?? 1,
                    baseModel: baseModel, methodParameters: methodParameters)
    }

    public var searchOptions: SearchOptions {
        var options = SearchOptions()
        options.baselineF1 = baselineF1
        return options
    }

    /// A fresh engine for this job (same seed and strategy as `uniguard merge-search` would use).
    public func makeSearch() throws -> MergeSearch {
        try MergeSearch(space: searchSpace, strategy: strategy, seed: seed, options: searchOptions)
    }

    /// Seed for stochastic merges (DARE masks) of one arm: every shard and the export merge identically.
    /// The arm id, as `LocalMergeSearch`/`ArmEvaluator` use, so cluster and local runs merge the same models.
    public func mergeSeed(arm: ArmID) -> UInt64 { UInt64(truncatingIfNeeded: arm.rawValue) }
}
