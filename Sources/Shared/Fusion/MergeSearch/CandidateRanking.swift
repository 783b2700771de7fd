import Foundation
import GuardData
import Guards

/// Which candidates a search explores: each candidate's own validation F1 (best first), the top k kept and how
/// many distinct instructions they were trained with. Computed once, by `make`, for the local run and for a
/// cluster job at submission, so both search the same space.
public struct CandidateRanking: Codable, Sendable, Equatable {
    /// One candidate's own validation F1.
    public struct Score: Codable, Sendable, Equatable {
        public var path: String
        public var f1: Double
        public init(path: String, f1: Double) { self.path = path; self.f1 = f1 }
    }

    /// Every candidate scored, best first (empty when the evaluator does not classify).
    public var scores: [Score]
    /// Candidates searched, best first: kept[0] is the top-1 model (source of tensors outside the subset).
    public var kept: [String]
    /// Distinct instructions among the kept candidates (paper A.5.1); 1 when they agree.
    public var instructionCount: Int
    /// Policy whose validation samples count; nil when the evaluator does not classify.
    public var policy: String?
    /// Validation samples every arm is scored on (those of the policy; every line when unranked).
    public var sampleCount: Int

    public init(scores: [Score], kept: [String], instructionCount: Int, policy: String?, sampleCount: Int) {
        self.scores = scores
        self.kept = kept
        self.instructionCount = instructionCount
        self.policy = policy
        self.sampleCount = sampleCount
    }

    /// The ranking `spec.evaluator` calls for: the classifier ranks guard models by F1 on `validationLines`;
    /// other evaluators (weight-sign) search every candidate in the order written.
    public static func make(_ spec: MergeSearchSpec, validationLines: [String],
                            log: (String) -> Void = { _ in }) throws -> CandidateRanking {
        guard spec.evaluator == ArmEvaluatorRegistry.classifier else {
            return CandidateRanking(scores: [], kept: spec.candidates, instructionCount: 1, policy: spec.policy,
                                    sampleCount: validationLines.count)
        }
        let policy = try spec.policy ?? GuardMetadata.load(directory: URL(fileURLWithPath: spec.candidates[0])).policy
        let items = try ValidationLines.items(validationLines, policy: policy, source: spec.validation)
        guard !items.isEmpty else {
            throw SearchError.noValidationData("\(spec.validation): no validation samples for policy '\(policy)'")
        }
        var scores: [Score] = []
        for c in spec.candidates {
            let f1 = try GuardModel.load(URL(fileURLWithPath: c)).confusionCounts(items).f1
            scores.append(Score(path: c, f1: f1))
            log(String(format: "candidate %@: validation F1 %.4f", c, f1))
        }
        let (sorted, kept) = order(scores, topK: spec.topK)
        return CandidateRanking(scores: sorted, kept: kept, instructionCount: try instructions(of: kept).count, policy: policy,
                                sampleCount: items.count)
    }

    /// The ranking rule: best F1 first, equal F1 by path (ascending, so reruns agree); keeps the first
    /// max(2, topK), since a merge needs two models.
    static func order(_ scores: [Score], topK: Int) -> (scores: [Score], kept: [String]) {
        let sorted = scores.sorted { ($0.f1, $1.path) > ($1.f1, $0.path) }
        return (sorted, Array(sorted.prefix(max(2, topK)).map(\.path)))
    }

    /// Distinct instructions of guard model directories, in candidate order (the top-1's first).
    public static func instructions(of candidates: [String]) throws -> [String] {
        var seen: [String] = []
        for c in candidates {
            let m = try GuardMetadata.load(directory: URL(fileURLWithPath: c))
            if !seen.contains(m.instruction) { seen.append(m.instruction) }
        }
        return seen
    }

    /// Validation F1 of the best single candidate (the bar a merge should clear); 0 when unranked.
    public var bestSingleF1: Double { scores.first?.f1 ?? 0 }
}
