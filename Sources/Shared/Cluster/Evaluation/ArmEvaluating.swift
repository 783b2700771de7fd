import Fusion
/// One shard of one merge arm, ready to score on a worker: the merge recipe over local model directories and
/// the validation lines of the shard.
public struct ArmEvaluationInput: Sendable {
    /// Merge recipe with worker-local model paths (built by `MergeArm.mergeConfig`).
    public var mergeConfig: MergeConfig
    /// The shard's validation samples, one JSONL line each (`{"prompt": ..., "label": "safe"|"unsafe", ...}`).
    public var validationLines: [String]
    public var policyInstruction: String
    public var threshold: Double
    /// Evaluator knobs from the job spec (`evaluator_options`).
    public var options: [String: Double]
    /// Arm index and shard index, for logs.
    public var armIndex: Int
    public var shardIndex: Int
    /// The arm and its search space over worker-local directories (evaluators that merge by arm need them).
    public var arm: MergeArm?
    public var space: SearchSpace?
    /// Policy whose samples count; nil: the top-1 candidate's.
    public var policy: String?

    public init(mergeConfig: MergeConfig, validationLines: [String], policyInstruction: String = "",
                threshold: Double = 0.5, options: [String: Double] = [:], armIndex: Int = 0, shardIndex: Int = 0) {
        self.mergeConfig = mergeConfig
        self.validationLines = validationLines
        self.policyInstruction = policyInstruction
        self.threshold = threshold
        self.options = options
        self.armIndex = armIndex
        self.shardIndex = shardIndex
    }
}

/// Builds the merged model of an arm and scores a validation shard: the worker's only view of evaluation.
/// Implementations: `ClassifierArmEvaluator` (the real one, via `ArmEvaluator`) and `WeightSignEvaluator`
/// (cheap and deterministic, for tests and smoke runs).
public protocol ArmEvaluating: Sendable {
    func evaluate(_ input: ArmEvaluationInput) throws -> ConfusionTally
}

/// Evaluators a worker can run, by the name a job spec uses.
public struct ArmEvaluatorRegistry: Sendable {
    public static let classifier = "classifier"
    public static let weightSign = "weight-sign"

    public private(set) var evaluators: [String: any ArmEvaluating]

    public init(_ evaluators: [String: any ArmEvaluating] = [:]) { self.evaluators = evaluators }

    /// What a worker ships with.
    public static var standard: ArmEvaluatorRegistry {
        ArmEvaluatorRegistry([classifier: ClassifierArmEvaluator(), weightSign: WeightSignEvaluator()])
    }

    public mutating func register(_ name: String, _ evaluator: any ArmEvaluating) { evaluators[name] = evaluator }

    /// The evaluator for `name`, or an error that says which ones exist.
    public func evaluator(named name: String) throws -> any ArmEvaluating {
        let key = name.isEmpty ? MergeSearchJobSpec.defaultEvaluator : name
        guard let e = evaluators[key] else {
            throw ArmEvaluationError.unknownEvaluator(key, available: evaluators.keys.sorted())
        }
        return e
    }
}

/// Why an arm could not be evaluated.
public enum ArmEvaluationError: Error, CustomStringConvertible, Equatable {
    case unknownEvaluator(String, available: [String])
    case badSample(line: Int, reason: String)
    case emptyModel

    public var description: String {
        switch self {
        case .unknownEvaluator(let name, let available):
            "this worker has no evaluator '\(name)' (available: \(available.joined(separator: ", ")))"
        case .badSample(let line, let reason): "validation line \(line): \(reason)"
        case .emptyModel: "the merged model has no float tensors"
        }
    }
}
