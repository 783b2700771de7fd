import Foundation

/// `uniguard merge-search` in one process: ranks the candidates once, then drives one `MergeSearchRun` per
/// strategy in a loop, scoring each arm on the whole validation file as a single shard.
public final class LocalMergeSearch {
    public let spec: MergeSearchSpec
    /// The validation file's sample lines (every policy; the evaluator keeps the searched one's).
    public let validationLines: [String]
    public let ranking: CandidateRanking
    private let evaluator: any ArmEvaluating

    public init(spec: MergeSearchSpec, evaluators: ArmEvaluatorRegistry = .standard, log: (String) -> Void = { _ in }) throws {
        self.spec = spec
        validationLines = try ValidationLines.read(spec.validation).lines
        ranking = try CandidateRanking.make(spec, validationLines: validationLines, log: log)
        evaluator = try evaluators.evaluator(named: spec.evaluator)
    }

    /// One search with `strategy`; `onRecord` sees each result as it is reported to the engine.
    public func run(strategy: SearchStrategyKind, onRecord: (SearchRecord) -> Void = { _ in }) throws -> MergeSearchRun {
        var run = try MergeSearchRun(spec: spec, ranking: ranking, strategy: strategy)
        while run.canAsk {
            let arm = run.ask()
            let started = Date()
            let evaluation = try ArmEvaluation(arm: arm, space: run.space, validationLines: validationLines,
                                               policy: ranking.policy, options: spec.evaluatorOptions)
            let counts = try evaluator.evaluate(evaluation)
            onRecord(try run.report(arm.id, counts: counts, seconds: Date().timeIntervalSince(started)))
        }
        return run
    }

    /// Best F1 reached within the first n results, for the strategy x iterations table.
    public static func bestWithin(_ history: [SearchRecord], _ n: Int) -> Double {
        history.prefix(n).map(\.f1).max() ?? 0
    }
}
