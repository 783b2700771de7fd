/// Binary confusion counts with "unsafe" as the positive class; shards add up by `+`.
public struct ConfusionCounts: Codable, Sendable, Equatable {
    public var tp = 0, fp = 0, tn = 0, fn = 0

    public init(tp: Int = 0, fp: Int = 0, tn: Int = 0, fn: Int = 0) { self.tp = tp; self.fp = fp; self.tn = tn; self.fn = fn }

    /// Counts verdicts `score >= threshold` against the truth.
    public init(scores: [Float], unsafe: [Bool], threshold: Float) {
        for (s, u) in zip(scores, unsafe) { add(predictedUnsafe: s >= threshold, actuallyUnsafe: u) }
    }

    public mutating func add(predictedUnsafe: Bool, actuallyUnsafe: Bool) {
        switch (predictedUnsafe, actuallyUnsafe) {
        case (true, true): tp += 1
        case (true, false): fp += 1
        case (false, false): tn += 1
        case (false, true): fn += 1
        }
    }

    public static func + (a: Self, b: Self) -> Self { .init(tp: a.tp + b.tp, fp: a.fp + b.fp, tn: a.tn + b.tn, fn: a.fn + b.fn) }

    public var total: Int { tp + fp + tn + fn }
    /// Precision, 0 when nothing was predicted positive.
    public var precision: Double { tp + fp == 0 ? 0 : Double(tp) / Double(tp + fp) }
    public var recall: Double { tp + fn == 0 ? 0 : Double(tp) / Double(tp + fn) }
    public var f1: Double { let d = 2 * tp + fp + fn; return d == 0 ? 0 : Double(2 * tp) / Double(d) }
    public var accuracy: Double { total == 0 ? 0 : Double(tp + tn) / Double(total) }
}
