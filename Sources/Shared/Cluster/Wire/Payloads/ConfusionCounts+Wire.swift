import Guards

/// The wire form of an arm's shard counts (Uniguard_V1_ConfusionCounts carries UInt64).
extension ConfusionCounts {
    /// Counts from a worker. A count that does not fit `Int`, or four that overflow their sum, is rejected:
    /// a worker is not trusted, and a trap or a wrapped sum would take the coordinator down or corrupt F1.
    public init(wire: Uniguard_V1_ConfusionCounts) throws {
        func count(_ value: UInt64, _ name: String) throws -> Int {
            guard let n = Int(exactly: value) else { throw WireCountsError(field: name, value: value) }
            return n
        }
        self.init(tp: try count(wire.tp, "tp"), fp: try count(wire.fp, "fp"), tn: try count(wire.tn, "tn"),
                  fn: try count(wire.fn, "fn"))
        var total = 0
        for n in [tp, fp, tn, fn] {
            let (sum, overflow) = total.addingReportingOverflow(n)
            guard !overflow else { throw WireCountsError(field: "tp+fp+tn+fn", value: nil) }
            total = sum
        }
    }

    public var wire: Uniguard_V1_ConfusionCounts {
        var c = Uniguard_V1_ConfusionCounts()
        c.tp = UInt64(max(tp, 0))
        c.fp = UInt64(max(fp, 0))
        c.tn = UInt64(max(tn, 0))
        c.fn = UInt64(max(fn, 0))
        return c
    }
}

/// Confusion counts from the wire that this machine cannot represent.
public struct WireCountsError: Error, CustomStringConvertible, Equatable {
    public var field: String
    public var value: UInt64?

    public var description: String {
        if let value { return "confusion count \(field) = \(value) does not fit a signed 64-bit integer; result rejected" }
        return "confusion counts overflow their sum (\(field)); result rejected"
    }
}
