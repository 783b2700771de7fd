import Foundation

/// Scores a labelled set with a GuardModel and reports the paper's metrics, timing each sample alone
/// (batch 1, as a guardrail sees traffic) when `perSampleLatency` is set.
public struct Evaluator {
    public let model: GuardModel

    public init(model: GuardModel) { self.model = model }

    /// `items` are model-formatted inputs with their truth (is unsafe).
    public func evaluate(_ items: [(text: String, unsafe: Bool)], perSampleLatency: Bool = false) throws -> EvaluationReport {
        try scored(items, perSampleLatency: perSampleLatency).report
    }

    /// `evaluate`, also returning each item's score (for per-category rates and threshold sweeps).
    public func scored(_ items: [(text: String, unsafe: Bool)], perSampleLatency: Bool = false) throws -> (report: EvaluationReport, scores: [Float]) {
        let texts = items.map(\.text)
        var scores: [Float]
        var seconds = [Double](repeating: 0, count: items.count)
        if perSampleLatency {
            scores = []
            scores.reserveCapacity(items.count)
            for (i, t) in texts.enumerated() {
                let t0 = DispatchTime.now().uptimeNanoseconds
                do { scores.append(try model.scores(inputs: [t])[0]) } catch is NonFiniteScore { throw NonFiniteScore(index: i) }
                seconds[i] = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            }
        } else {
            scores = try model.scores(inputs: texts)
        }
        return (EvaluationReport.from(scores: scores, unsafe: items.map(\.unsafe), threshold: model.metadata.threshold, seconds: seconds), scores)
    }
}
