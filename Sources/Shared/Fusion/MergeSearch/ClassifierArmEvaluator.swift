import Foundation
import Guards
import Runtime

/// The real arm evaluator ("classifier"): builds the arm's merged `GuardModel` in memory (the top-1 candidate's
/// config, tokenizer and head, the arm's instruction) and classifies the shard's samples of the policy. Shards of
/// one arm sum to exactly what the local run counts on the whole validation file.
public final class ClassifierArmEvaluator: ArmEvaluating {
    /// The top-1 model and the candidates' instructions: costly to load (the top-1 model's weights) and not
    /// thread-safe, so kept per slot thread and search space.
    private final class Template {
        let model: GuardModel
        let instructions: [String]

        init(_ space: SearchSpace) throws {
            model = try GuardModel.load(URL(fileURLWithPath: space.candidates[0]))
            instructions = try CandidateRanking.instructions(of: space.candidates)
        }
    }

    private let templates = Guarded<[String: Template]>([:])

    public init() {}

    public func evaluate(_ evaluation: ArmEvaluation) throws -> ConfusionCounts {
        let template = try self.template(for: evaluation.space)
        let policy = evaluation.policy ?? template.model.metadata.policy
        let items = try ValidationLines.items(evaluation.validationLines, policy: policy,
                                              source: "validation shard \(evaluation.shardIndex)")
        guard !items.isEmpty else { return ConfusionCounts() }
        let sink = InMemoryTensorSink()
        _ = try ModelMerger.merge(evaluation.mergeConfig, into: sink)
        var meta = template.model.metadata
        if let i = evaluation.arm.instruction, i < template.instructions.count { meta.instruction = template.instructions[i] }
        return try template.model.withParameters(sink.tensors, metadata: meta).confusionCounts(items)
    }

    private func template(for space: SearchSpace) throws -> Template {
        let key = "\(ObjectIdentifier(Thread.current).hashValue)|\(space.candidates.joined(separator: "|"))"
        if let cached = templates.value[key] { return cached }
        let made = try Template(space)
        templates.withLock { $0[key] = made }
        return made
    }
}
