import Foundation
import GuardData
import Guards

/// One merge search with one strategy: the spec, the ranked candidates and the ask/tell engine. The local run
/// drives it in a loop; the coordinator drives it from worker results and persists `engine`. Both hand out the
/// same arms, learn from the same F1s and export the same merge.
public struct MergeSearchRun: Sendable {
    public let spec: MergeSearchSpec
    public let ranking: CandidateRanking
    /// The engine: posteriors, arms in flight, history (Codable; the coordinator stores it).
    public private(set) var engine: MergeSearch

    /// A fresh search with `strategy` (one of `spec.strategies`).
    public init(spec: MergeSearchSpec, ranking: CandidateRanking, strategy: SearchStrategyKind) throws {
        let space = spec.searchSpace(candidates: ranking.kept, instructionCount: ranking.instructionCount)
        self.init(spec: spec, ranking: ranking,
                  engine: try MergeSearch(space: space, strategy: strategy, seed: spec.seed, options: Self.options(spec, ranking)))
    }

    /// The spec's search options, completed from the ranking as the paper runs the search: an arm succeeds only by
    /// beating the best single candidate (unless the spec sets `baseline_f1`), and the first arm weighs the
    /// candidates by their own F1.
    static func options(_ spec: MergeSearchSpec, _ ranking: CandidateRanking) -> SearchOptions {
        var options = spec.searchOptions
        guard !ranking.scores.isEmpty else { return options }
        if options.baselineF1 == nil { options.baselineF1 = ranking.bestSingleF1 }
        let f1 = Dictionary(ranking.scores.map { ($0.path, $0.f1) }, uniquingKeysWith: max)
        options.candidateF1 = ranking.kept.map { f1[$0] ?? 0 }
        return options
    }

    /// A search resumed from a stored engine.
    public init(spec: MergeSearchSpec, ranking: CandidateRanking, engine: MergeSearch) {
        self.spec = spec
        self.ranking = ranking
        self.engine = engine
    }

    public var space: SearchSpace { engine.space }
    public var strategy: SearchStrategyKind { engine.kind }
    public var history: [SearchRecord] { engine.history }
    public var inFlight: [MergeArm] { engine.inFlight }
    /// Best reported result (the first of equals).
    public var best: SearchRecord? { engine.best }
    /// Arms handed out so far, reported or not.
    public var issued: Int { engine.history.count + engine.pending.count }

    /// Whether another arm may be handed out: budget left and under the spec's batch cap (0: no cap).
    public var canAsk: Bool {
        issued < spec.iterations && (spec.batch == 0 || engine.pending.count < spec.batch)
    }

    /// Every arm of the budget reported: time to export the best one.
    public var finished: Bool { engine.history.count >= spec.iterations && engine.pending.isEmpty }

    public mutating func ask() -> MergeArm { engine.ask() }

    /// Reports an arm's counts (summed over its shards) and how long building and scoring it took.
    @discardableResult
    public mutating func report(_ arm: ArmID, counts: ConfusionCounts, seconds: Double) throws -> SearchRecord {
        try engine.tell(arm, f1: counts.f1, seconds: seconds)
    }

    /// Forgets an arm that will never report.
    public mutating func abandon(_ arm: ArmID) throws { try engine.abandon(arm) }

    /// The best reported arm, as the arm that was handed out.
    public var bestArm: MergeArm? {
        guard let best else { return nil }
        return MergeArm(id: best.arm, method: best.method, weights: best.weights, subset: best.subset,
                        instruction: best.instruction, parameters: best.parameters)
    }

    /// Writes the best arm as a full model directory. Guard candidates (the classifier evaluator) also get the
    /// arm's instruction and validation F1 in uniguard.json; merge provenance is written by the merger.
    public func exportBest(to dir: String) throws {
        guard let arm = bestArm, let f1 = best?.f1 else { throw SearchError.badState("no arm was evaluated") }
        _ = try ModelMerger.merge(try arm.mergeConfig(space), to: dir)
        guard spec.evaluator == ArmEvaluatorRegistry.classifier else { return }
        let url = URL(fileURLWithPath: dir)
        var meta = try GuardMetadata.load(directory: URL(fileURLWithPath: space.candidates[0]))
        let instructions = try CandidateRanking.instructions(of: space.candidates)
        if let i = arm.instruction, i < instructions.count { meta.instruction = instructions[i] }
        meta.validationF1 = f1
        try meta.save(directory: url, preserving: GuardMetadata.storedKeys(directory: url))
    }
}
