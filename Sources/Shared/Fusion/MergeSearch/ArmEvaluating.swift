import Guards

/// One shard of one arm to score: the arm, its search space over model directories on this machine, the arm's
/// merge recipe and the shard's validation lines. The local run is a single shard holding the whole file.
public struct ArmEvaluation: Sendable {
    public let arm: MergeArm
    public let space: SearchSpace
    /// The arm's merge recipe, built once here by `MergeArm.mergeConfig` (seeded with the arm id).
    public let mergeConfig: MergeConfig
    /// The shard's validation samples, one JSONL line each (`{"prompt": ..., "label": "safe"|"unsafe", ...}`).
    public let validationLines: [String]
    /// Policy whose samples count; nil: the top-1 candidate's.
    public let policy: String?
    /// Evaluator knobs from the spec (`evaluator_options`).
    public let options: [String: Double]
    /// Shard index, for error messages.
    public let shardIndex: Int

    public init(arm: MergeArm, space: SearchSpace, validationLines: [String], policy: String? = nil,
                options: [String: Double] = [:], shardIndex: Int = 0) throws {
        self.arm = arm
        self.space = space
        mergeConfig = try arm.mergeConfig(space)
        self.validationLines = validationLines
        self.policy = policy
        self.options = options
        self.shardIndex = shardIndex
    }
}

/// Builds an arm's merged model and counts its verdicts on a validation shard: what the local run and every
/// worker call. Implementations: `ClassifierArmEvaluator` (the real one) and `WeightSignEvaluator` (cheap and
/// deterministic, for tests and smoke runs).
public protocol ArmEvaluating: Sendable {
    func evaluate(_ evaluation: ArmEvaluation) throws -> ConfusionCounts
}

/// Evaluators by the name a spec's `evaluator` key uses.
public struct ArmEvaluatorRegistry: Sendable {
    public static let classifier = "classifier"
    public static let weightSign = "weight-sign"

    public private(set) var evaluators: [String: any ArmEvaluating]

    public init(_ evaluators: [String: any ArmEvaluating] = [:]) { self.evaluators = evaluators }

    /// What a worker and `uniguard merge-search` ship with.
    public static var standard: ArmEvaluatorRegistry {
        ArmEvaluatorRegistry([classifier: ClassifierArmEvaluator(), weightSign: WeightSignEvaluator()])
    }

    public mutating func register(_ name: String, _ evaluator: any ArmEvaluating) { evaluators[name] = evaluator }

    /// The evaluator for `name` (empty: the classifier), or an error that says which ones exist.
    public func evaluator(named name: String) throws -> any ArmEvaluating {
        let key = name.isEmpty ? Self.classifier : name
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
            "no evaluator '\(name)' (available: \(available.joined(separator: ", ")))"
        case .badSample(let line, let reason): "validation line \(line): \(reason)"
        case .emptyModel: "the merged model has no float tensors"
        }
    }
}
