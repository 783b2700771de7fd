/// Chooses a guard's decision threshold on validation scores: the threshold with the highest F1 among
/// those whose false-positive rate is at most `targetFPR` (a guard that blocks benign traffic cannot be
/// deployed, so the cap comes first). When no threshold below 1 meets the cap with any recall, the one
/// with the lowest FPR is taken and `metCap` is false. Candidate cuts lie between distinct scores (a verdict is
/// `score >= threshold`); the threshold is the midpoint between the lowest score flagged and the next lower one, so
/// it reproduces the validation counts exactly and still does when the same inputs are scored in another batch
/// shape (batch-1 `eval` vs batched calibration differ in the last bits).
public struct ThresholdCalibration: Sendable, Equatable {
    /// The chosen threshold.
    public let threshold: Float
    /// Validation counts at that threshold.
    public let counts: ConfusionCounts
    /// The cap it was chosen under.
    public let targetFPR: Double
    /// Whether the FPR cap was met with recall above 0.
    public let metCap: Bool

    /// False-positive rate at the chosen threshold.
    public var fpr: Double { counts.fp + counts.tn == 0 ? 0 : Double(counts.fp) / Double(counts.fp + counts.tn) }

    /// Calibrates on `scores` (probability of unsafe) and truths; nil when either label is missing.
    public static func choose(scores: [Float], unsafe: [Bool], targetFPR: Double) -> ThresholdCalibration? {
        precondition(scores.count == unsafe.count)
        let positives = unsafe.filter { $0 }.count, negatives = unsafe.count - positives
        guard positives > 0, negatives > 0, targetFPR.isFinite, targetFPR >= 0 else { return nil }
        // Sweep thresholds from the highest score down; at each distinct score, everything at or above it is unsafe.
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var tp = 0, fp = 0
        var best: (f1: Double, threshold: Float, tp: Int, fp: Int)?
        var lowestFPR: (fp: Int, tp: Int, threshold: Float)?
        var i = 0
        while i < order.count {
            let t = scores[order[i]]
            while i < order.count && scores[order[i]] == t {
                if unsafe[order[i]] { tp += 1 } else { fp += 1 }
                i += 1
            }
            let f1 = Double(2 * tp) / Double(2 * tp + fp + (positives - tp))
            if Double(fp) <= targetFPR * Double(negatives), tp > 0, best == nil || f1 > best!.f1 { best = (f1, t, tp, fp) }
            if tp > 0, lowestFPR == nil || fp < lowestFPR!.fp || (fp == lowestFPR!.fp && tp > lowestFPR!.tp) { lowestFPR = (fp, tp, t) }
        }
        let pick = best.map { (threshold: $0.threshold, tp: $0.tp, fp: $0.fp, met: true) }
            ?? lowestFPR.map { (threshold: $0.threshold, tp: $0.tp, fp: $0.fp, met: false) }
        guard let pick else { return nil }
        let below = scores.lazy.filter { $0 < pick.threshold }.max()
        let mid = below.map { $0 + (pick.threshold - $0) / 2 }
        let threshold = mid.map { $0 > below! && $0 <= pick.threshold ? $0 : pick.threshold } ?? pick.threshold
        let counts = ConfusionCounts(tp: pick.tp, fp: pick.fp, tn: negatives - pick.fp, fn: positives - pick.tp)
        return ThresholdCalibration(threshold: threshold, counts: counts, targetFPR: targetFPR, metCap: pick.met)
    }
}
