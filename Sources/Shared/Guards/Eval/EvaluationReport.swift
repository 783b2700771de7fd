import Foundation

/// Metrics of a classifier on a labelled set: the paper's table columns plus confusion counts and latency.
public struct EvaluationReport: Codable, Sendable {
    public var counts: ConfusionCounts
    public var rocAUC: Double?
    /// Mean seconds per sample for safe and unsafe inputs (the paper reports both).
    public var secondsPerSafeSample: Double
    public var secondsPerUnsafeSample: Double
    public var threshold: Float

    public var precision: Double { counts.precision }
    public var recall: Double { counts.recall }
    public var f1: Double { counts.f1 }
    public var accuracy: Double { counts.accuracy }

    public init(counts: ConfusionCounts, rocAUC: Double?, secondsPerSafeSample: Double, secondsPerUnsafeSample: Double, threshold: Float) {
        self.counts = counts; self.rocAUC = rocAUC; self.threshold = threshold
        self.secondsPerSafeSample = secondsPerSafeSample; self.secondsPerUnsafeSample = secondsPerUnsafeSample
    }

    /// Builds a report from per-sample scores (probability of unsafe) and labels.
    public static func from(scores: [Float], unsafe: [Bool], threshold: Float, seconds: [Double]) -> EvaluationReport {
        let c = ConfusionCounts(scores: scores, unsafe: unsafe, threshold: threshold)
        var safeT = 0.0, unsafeT = 0.0
        for i in scores.indices { if unsafe[i] { unsafeT += seconds[i] } else { safeT += seconds[i] } }
        let nU = unsafe.filter { $0 }.count, nS = unsafe.count - nU
        return EvaluationReport(counts: c, rocAUC: ROCAUC.compute(scores: scores, unsafe: unsafe),
                                secondsPerSafeSample: nS == 0 ? 0 : safeT / Double(nS),
                                secondsPerUnsafeSample: nU == 0 ? 0 : unsafeT / Double(nU), threshold: threshold)
    }

    /// One JSON object with every figure.
    public var jsonObject: [String: Any] {
        ["precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy, "roc_auc": rocAUC as Any,
         "tp": counts.tp, "fp": counts.fp, "tn": counts.tn, "fn": counts.fn, "samples": counts.total,
         "s_per_sample_safe": secondsPerSafeSample, "s_per_sample_unsafe": secondsPerUnsafeSample, "threshold": Double(threshold)]
    }
}
