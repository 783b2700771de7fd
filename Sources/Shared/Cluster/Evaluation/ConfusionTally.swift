/// Binary confusion counts ("unsafe" is the positive class) summed over the validation shards of an arm.
///
/// TODO(lead): once Sources/Shared/Eval/ConfusionCounts lands, convert at the seam (`init(_:)` both ways)
/// or replace this type; the wire carries the same four numbers (Uniguard_V1_ConfusionCounts).
public struct ConfusionTally: Codable, Sendable, Hashable {
    public var tp: UInt64
    public var fp: UInt64
    public var tn: UInt64
    public var fn: UInt64

    public init(tp: UInt64 = 0, fp: UInt64 = 0, tn: UInt64 = 0, fn: UInt64 = 0) {
        self.tp = tp
        self.fp = fp
        self.tn = tn
        self.fn = fn
    }

    public static func + (a: ConfusionTally, b: ConfusionTally) -> ConfusionTally {
        ConfusionTally(tp: a.tp &+ b.tp, fp: a.fp &+ b.fp, tn: a.tn &+ b.tn, fn: a.fn &+ b.fn)
    }

    public var total: UInt64 { tp &+ fp &+ tn &+ fn }

    /// F1 = 2TP / (2TP + FP + FN); 0 when there are neither positives nor positive predictions (sklearn's
    /// zero_division=0), so an arm that predicts nothing on a shard without positives is not rewarded.
    public var f1: Double {
        let denominator = 2 * Double(tp) + Double(fp) + Double(fn)
        return denominator > 0 ? 2 * Double(tp) / denominator : 0
    }

    /// Records one prediction against its label.
    public mutating func record(predictedUnsafe: Bool, actuallyUnsafe: Bool) {
        switch (predictedUnsafe, actuallyUnsafe) {
        case (true, true): tp += 1
        case (true, false): fp += 1
        case (false, false): tn += 1
        case (false, true): fn += 1
        }
    }

    public init(_ wire: Uniguard_V1_ConfusionCounts) {
        self.init(tp: wire.tp, fp: wire.fp, tn: wire.tn, fn: wire.fn)
    }

    public var wire: Uniguard_V1_ConfusionCounts {
        var c = Uniguard_V1_ConfusionCounts()
        c.tp = tp
        c.fp = fp
        c.tn = tn
        c.fn = fn
        return c
    }
}
