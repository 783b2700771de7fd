import Foundation
import Fusion
import GuardData
import Guards
import Runtime

/// The real arm evaluator ("classifier"): `ArmEvaluator` from `uniguard merge-search` builds the arm's merged
/// `GuardModel` in memory and classifies the shard's samples of the job's policy. Shards of one arm sum to
/// exactly what the local search counts on the whole validation file.
public final class ClassifierArmEvaluator: ArmEvaluating {
    /// `ArmEvaluator`s are one per thread and costly to build (they load the top-1 model): kept per slot thread
    /// and search space.
    private let evaluators = Guarded<[String: ArmEvaluator]>([:])

    public init() {}

    public func evaluate(_ input: ArmEvaluationInput) throws -> ConfusionTally {
        guard let arm = input.arm, let space = input.space else {
            throw ArmEvaluationError.badSample(line: 0, reason: "the classifier evaluator needs the arm and its search space")
        }
        let evaluator = try self.evaluator(for: space)
        let policy = input.policy ?? evaluator.template.metadata.policy
        var items: [(prompt: String, unsafe: Bool)] = []
        for (i, line) in input.validationLines.enumerated() {
            let sample = try SampleCodec.decode(Array(line.utf8)[...], path: "validation shard \(input.shardIndex)", line: i + 1)
            if sample.policy == policy { items.append((sample.prompt, sample.label == .unsafe)) }
        }
        guard !items.isEmpty else { return ConfusionTally() }
        return ConfusionTally(try evaluator.evaluate(arm, items: items))
    }

    private func evaluator(for space: SearchSpace) throws -> ArmEvaluator {
        let key = "\(ObjectIdentifier(Thread.current).hashValue)|\(space.candidates.joined(separator: "|"))|\(space.baseModel ?? "")|\(space.instructionCount)"
        if let cached = evaluators.value[key] { return cached }
        let made = try ArmEvaluator(space: space)
        evaluators.withLock { $0[key] = made }
        return made
    }
}

extension ConfusionTally {
    /// From the evaluation module's counts (the local search's type).
    public init(_ counts: ConfusionCounts) {
        self.init(tp: UInt64(max(counts.tp, 0)), fp: UInt64(max(counts.fp, 0)), tn: UInt64(max(counts.tn, 0)),
                  fn: UInt64(max(counts.fn, 0)))
    }
}

/// Ranks the candidates of a classifier job at submission, exactly as `LocalMergeSearch` does (validation F1 of
/// each candidate, keep top_k, instruction count from their metadata), so cluster and local runs share a space.
enum ClassifierJobRanking {
    static func apply(_ spec: inout MergeSearchJobSpec) throws {
        guard spec.evaluator == ArmEvaluatorRegistry.classifier, spec.ranking == nil else { return }
        let policy = try spec.policy ?? GuardMetadata.load(directory: URL(fileURLWithPath: spec.candidates[0])).policy
        let config = MergeSearchConfig(candidates: spec.candidates, topK: spec.topK ?? 3, policy: policy,
                                       validation: spec.validation, methods: spec.methods, subsets: spec.subsets,
                                       strategies: [spec.strategy], iterations: spec.iterations, batch: max(spec.batch, 1),
                                       seed: spec.seed, baseModel: spec.baseModel, path: spec.name)
        let local = try LocalMergeSearch(config: config)
        spec.policy = policy
        spec.ranking = local.ranking.map { MergeSearchJobSpec.CandidateScore(path: $0.path, f1: $0.f1) }
        spec.candidates = local.space.candidates
        spec.instructionCount = local.space.instructionCount
        // The base model only travels to workers when a method needs it.
        spec.baseModel = spec.methods.contains(where: \.usesTaskVectors) ? local.space.baseModel : nil
    }
}
