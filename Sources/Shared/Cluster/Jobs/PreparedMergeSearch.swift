import Foundation
import Fusion
import Runtime

/// A merge-search job after submission: its spec, the candidate ranking, the blob descriptions of every model
/// and the validation shards. Stored as JSON with the job, so a restarted coordinator hashes and ranks nothing again.
public struct PreparedMergeSearch: Codable, Sendable, Equatable {
    public var spec: MergeSearchSpec
    public var ranking: CandidateRanking
    /// Aligned with `ranking.kept`.
    public var candidates: [ModelBlobSet]
    public var baseModel: ModelBlobSet?
    public var validationHash: String
    public var validationSize: UInt64
    public var shards: [ValidationShards.Shard]

    /// Ranks the candidates (as `uniguard merge-search` does), hashes models and the validation file and plans
    /// the shards. `knownHash` skips files already hashed.
    public static func prepare(_ spec: MergeSearchSpec,
                               knownHash: (String, UInt64, Int64) -> String? = { _, _, _ in nil }) throws -> PreparedMergeSearch {
        let (data, lines) = try ValidationLines.read(spec.validation)
        guard !lines.isEmpty else {
            throw JobSpecError(source: spec.name, key: "validation", reason: "\(spec.validation) has no samples")
        }
        // Incompatible or unreadable models are refused at submission, naming the path, not when an arm fails.
        try ModelCompatibility.checkSearch(candidates: spec.candidates, baseModel: spec.baseModel)
        let ranking = try CandidateRanking.make(spec, validationLines: lines)
        let candidates = try ranking.kept.map { try ModelBlobSet.describe(directory: $0, knownHash: knownHash) }
        let base = try spec.baseModel.map { try ModelBlobSet.describe(directory: $0, knownHash: knownHash) }
        var shards = ValidationShards.plan(lines: lines, count: spec.validationShards)
        for i in shards.indices {
            let shardLines = Array(lines[shards[i].firstLine..<shards[i].firstLine + shards[i].lineCount])
            shards[i].scoredSamples = try scoredSamples(shardLines, spec: spec, ranking: ranking, shard: i)
        }
        return PreparedMergeSearch(spec: spec, ranking: ranking, candidates: candidates, baseModel: base,
                                   validationHash: SHA256.hex(SHA256.hash(data)), validationSize: UInt64(data.count),
                                   shards: shards)
    }

    /// What the job's evaluator counts in a shard: the classifier scores the samples of the ranking's policy (as
    /// `ClassifierArmEvaluator` does on the worker), every other evaluator every line.
    static func scoredSamples(_ lines: [String], spec: MergeSearchSpec, ranking: CandidateRanking, shard: Int) throws -> Int {
        guard spec.evaluator == ArmEvaluatorRegistry.classifier, let policy = ranking.policy else { return lines.count }
        return try ValidationLines.items(lines, policy: policy, source: "validation shard \(shard)").count
    }

    /// A fresh search of the job's one strategy.
    public func makeRun() throws -> MergeSearchRun {
        try MergeSearchRun(spec: spec, ranking: ranking, strategy: spec.strategies[0])
    }

    /// Every blob the job's tasks reference, hash → coordinator path (what the coordinator must serve).
    public var blobPaths: [String: (path: String, size: UInt64)] {
        var out: [String: (String, UInt64)] = [validationHash: (spec.validation, validationSize)]
        for set in candidates + (baseModel.map { [$0] } ?? []) {
            for f in set.files { out[f.hash] = ((set.path as NSString).appendingPathComponent(f.name), f.size) }
        }
        return out
    }

    /// The wire task for one shard of an arm.
    public func assignment(arm: MergeArm, shard: Int, taskID: String, attempt: Int, deadlineUnixMs: UInt64,
                           sharedPaths: Bool) -> Uniguard_V1_TaskAssignment {
        var task = Uniguard_V1_MergeArmTask()
        if let baseModel { task.baseModel = baseModel.wire(sharedPath: sharedPaths) }
        task.models = candidates.map { $0.wire(sharedPath: sharedPaths) }
        task.method = arm.method.rawValue
        task.weights = arm.weights
        task.subset = MergeArmWire.encode(arm.subset)
        task.parameters = arm.parameters
        let s = shards[min(max(shard, 0), shards.count - 1)]
        var range = Uniguard_V1_ShardRange()
        range.corpusHash = validationHash
        range.firstLine = UInt64(s.firstLine)
        range.lineCount = UInt64(s.lineCount)
        range.shardHash = s.hash
        if sharedPaths { range.sharedPath = spec.validation }
        task.validation = range
        task.validationSizeBytes = validationSize
        task.policyInstruction = spec.policyInstruction
        task.threshold = Float(spec.threshold)
        task.armIndex = UInt64(arm.id.rawValue)
        // Workers seed stochastic merges with the arm id (`MergeArm.mergeConfig`); the field repeats it for logs.
        task.seed = UInt64(truncatingIfNeeded: arm.id.rawValue)
        task.evaluator = spec.evaluator
        task.evaluatorOptions = spec.evaluatorOptions
        task.shardIndex = UInt32(s.index)
        task.shardCount = UInt32(shards.count)
        task.policyID = ranking.policy ?? ""
        task.instructionCount = UInt32(max(ranking.instructionCount, 1))
        task.instruction = Int32(arm.instruction ?? -1)

        var assignment = Uniguard_V1_TaskAssignment()
        assignment.taskID = taskID
        assignment.attempt = UInt32(attempt)
        assignment.leaseDeadlineUnixMs = deadlineUnixMs
        assignment.mergeArm = task
        return assignment
    }
}

/// Arm fields that need more than a scalar on the wire.
public enum MergeArmWire {
    /// A subset as its kind name, or as JSON when it carries include/exclude filters.
    public static func encode(_ subset: ParameterSubset) -> String {
        if subset.include.isEmpty && subset.exclude.isEmpty { return subset.kind.rawValue }
        let data = (try? JSONEncoder().encode(subset)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    public static func decodeSubset(_ text: String) throws -> ParameterSubset {
        if let kind = ParameterSubset.Kind(rawValue: text) { return ParameterSubset(kind) }
        do { return try JSONDecoder().decode(ParameterSubset.self, from: Data(text.utf8)) } catch {
            throw JobSpecError(source: "task", key: "subset", reason: "'\(text.prefix(80))' is not a parameter subset")
        }
    }

    /// The arm and a search space over worker-local directories: what `ArmEvaluation` merges (seeded with the arm id).
    public static func armAndSpace(_ task: Uniguard_V1_MergeArmTask, candidates: [String],
                                   baseModel: String?) throws -> (MergeArm, SearchSpace) {
        guard let method = MergeMethodKind(rawValue: task.method) else {
            throw JobSpecError(source: "task", key: "method", reason: "unknown merge method '\(task.method)'")
        }
        guard task.weights.count == candidates.count, !candidates.isEmpty,
              task.weights.allSatisfy({ $0.isFinite && $0 >= 0 })
        else {
            throw JobSpecError(source: "task", key: "weights", reason: "\(task.weights.count) weights for \(candidates.count) models")
        }
        if method.usesTaskVectors, baseModel == nil {
            throw JobSpecError(source: "task", key: "base_model", reason: "\(method.rawValue) needs a base model")
        }
        if method == .slerp, candidates.count < 2 {
            throw JobSpecError(source: "task", key: "models", reason: "slerp needs two models")
        }
        let instructionCount = Int(max(task.instructionCount, 1))
        let instruction = task.instruction >= 0 && Int(task.instruction) < instructionCount ? Int(task.instruction) : nil
        let arm = MergeArm(id: ArmID(Int(clamping: task.armIndex)), method: method, weights: task.weights,
                           subset: try decodeSubset(task.subset), instruction: instruction, parameters: task.parameters)
        let space = SearchSpace(candidates: candidates, methods: [method], subsets: [arm.subset],
                                instructionCount: instructionCount, baseModel: baseModel)
        return (arm, space)
    }
}
