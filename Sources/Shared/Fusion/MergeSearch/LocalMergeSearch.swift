import Foundation
import GuardData
import Guards
import Runtime

/// Runs a merge search in one process: ranks the candidates by validation F1, keeps the top k, asks the
/// engine for arms, scores each merged model on the validation set and tells the engine its F1.
public final class LocalMergeSearch {
    public let config: MergeSearchConfig
    /// Validation prompts with truth, of the searched policy.
    public let items: [(prompt: String, unsafe: Bool)]
    /// Every candidate's own validation F1, best first: (directory, F1).
    public let ranking: [(path: String, f1: Double)]
    public let space: SearchSpace
    private let evaluator: ArmEvaluator

    public init(config: MergeSearchConfig, log: (String) -> Void = { _ in }) throws {
        self.config = config
        let firstMeta = try GuardMetadata.load(directory: URL(fileURLWithPath: config.candidates[0]))
        let policy = config.policy ?? firstMeta.policy
        let reader = try SampleReader(path: config.validation)
        var items: [(prompt: String, unsafe: Bool)] = []
        try reader.forEachSample { if $0.policy == policy { items.append(($0.prompt, $0.label == .unsafe)) } }
        guard !items.isEmpty else { throw SearchError.noValidationData("\(config.validation): no validation samples for policy '\(policy)'") }
        self.items = items
        var ranked: [(path: String, f1: Double)] = []
        for c in config.candidates {
            let counts = try GuardModel.load(URL(fileURLWithPath: c)).confusionCounts(items)
            ranked.append((c, counts.f1))
            log(String(format: "candidate %@: validation F1 %.4f", c, counts.f1))
        }
        ranked.sort { ($0.f1, $1.path) > ($1.f1, $0.path) }
        ranking = ranked
        let top = ranked.prefix(max(2, config.topK)).map(\.path)
        let base = config.baseModel ?? UniGuardHome.baseModel.path
        space = SearchSpace(candidates: Array(top), methods: config.methods, subsets: config.subsets,
                            instructionCount: try ArmEvaluator.instructions(of: Array(top)).count, baseModel: base)
        try space.validate()
        evaluator = try ArmEvaluator(space: space)
    }

    /// Validation F1 of the best single candidate (the bar a merge should clear).
    public var bestSingleF1: Double { ranking.first?.f1 ?? 0 }

    /// One search with `strategy`; `onRecord` sees each result as it is told to the engine.
    public func run(strategy: SearchStrategyKind, onRecord: (SearchRecord) -> Void = { _ in }) throws -> MergeSearch {
        var search = try MergeSearch(space: space, strategy: strategy, seed: config.seed)
        for _ in 0..<config.iterations {
            let arm = search.ask()
            let t0 = Date()
            let counts = try evaluator.evaluate(arm, items: items)
            onRecord(try search.tell(arm.id, f1: counts.f1, seconds: Date().timeIntervalSince(t0)))
        }
        return search
    }

    /// Writes the best arm of `search` as a full model directory (merge provenance in uniguard.json).
    public func export(_ search: MergeSearch, to dir: String) throws {
        guard let best = search.best else { throw SearchError.badState("no arm was evaluated") }
        let arm = MergeArm(id: best.arm, method: best.method, weights: best.weights, subset: best.subset,
                           instruction: best.instruction, parameters: best.parameters)
        _ = try ModelMerger.merge(try arm.mergeConfig(space, randomSeed: UInt64(arm.id.rawValue)), to: dir)
        let url = URL(fileURLWithPath: dir)
        var meta = evaluator.template.metadata
        if let i = arm.instruction, i < evaluator.instructions.count { meta.instruction = evaluator.instructions[i] }
        meta.validationF1 = best.f1
        let existing = (try? JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent(GuardMetadata.fileName)))) as? [String: Any] ?? [:]
        try meta.save(directory: url, preserving: existing)
    }

    /// Best F1 reached within the first n results, for the strategy x iterations table.
    public static func bestWithin(_ history: [SearchRecord], _ n: Int) -> Double {
        history.prefix(n).map(\.f1).max() ?? 0
    }
}
