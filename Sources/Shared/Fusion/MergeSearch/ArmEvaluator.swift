import Foundation
import Guards

/// Scores merge arms: builds the arm's merged model in memory and counts its verdicts on validation items.
/// Used by `uniguard merge-search` and by cluster workers (each scoring a shard). One instance per thread.
public final class ArmEvaluator {
    public let space: SearchSpace
    /// The top-1 candidate: config, tokenizer, head layout and default metadata of every merged model.
    public let template: GuardModel
    /// Instruction texts an arm's `instruction` index chooses among (paper A.5.1); one entry when all agree.
    public let instructions: [String]

    public init(space: SearchSpace) throws {
        self.space = space
        template = try GuardModel.load(URL(fileURLWithPath: space.candidates[0]))
        instructions = try Self.instructions(of: space.candidates)
    }

    /// Distinct instructions of instruction-format candidates, in candidate order (the top-1's first).
    public static func instructions(of candidates: [String]) throws -> [String] {
        var seen: [String] = []
        for c in candidates {
            let m = try GuardMetadata.load(directory: URL(fileURLWithPath: c))
            if !seen.contains(m.instruction) { seen.append(m.instruction) }
        }
        return seen
    }

    /// The merged model of `arm` (in memory), with the arm's instruction in its metadata.
    public func model(for arm: MergeArm) throws -> GuardModel {
        let sink = InMemoryTensorSink()
        _ = try ModelMerger.merge(try arm.mergeConfig(space, randomSeed: UInt64(arm.id.rawValue)), into: sink)
        var meta = template.metadata
        if let i = arm.instruction, i < instructions.count { meta.instruction = instructions[i] }
        return try template.withParameters(sink.tensors, metadata: meta)
    }

    /// Confusion counts of `arm` on `items[shard]` (prompts with truth), unsafe = positive.
    public func evaluate(_ arm: MergeArm, items: [(prompt: String, unsafe: Bool)], shard: Range<Int>? = nil) throws -> ConfusionCounts {
        try model(for: arm).confusionCounts(shard.map { Array(items[$0]) } ?? items)
    }
}
