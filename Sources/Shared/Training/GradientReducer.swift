/// Sums gradient buffers over the ranks of a data-parallel group (world size 1: nothing to do).
public protocol GradientReducer: AnyObject, Sendable {
    var rank: Int { get }
    var worldSize: Int { get }
    /// Element-wise sum over every rank, in place; every rank calls it with the same count, in the same order.
    func sum(_ values: UnsafeMutableBufferPointer<Float>) throws
}

/// The reducer of a run in one process: rank 0 of 1, whose sum is the identity.
public final class SingleProcessReducer: GradientReducer {
    public var rank: Int { 0 }
    public var worldSize: Int { 1 }
    public init() {}
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
}

extension GradientReducer {
    /// `sum` of a small array (loss terms, counts, votes).
    func sum(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { try sum($0) }
    }
}

/// The rows of a global batch of `batch` rows that `rank` of `worldSize` computes (contiguous, deterministic;
/// every row of the batch belongs to exactly one rank; ranks may get 0 rows when worldSize > batch).
public enum BatchPartition {
    /// Rank r gets rows ⌊r·batch/worldSize⌋ ..< ⌊(r+1)·batch/worldSize⌋: shares differ by at most one row.
    public static func range(batch: Int, rank: Int, worldSize: Int) -> Range<Int> {
        precondition(batch >= 0 && worldSize >= 1 && (0..<worldSize).contains(rank), "rank \(rank) of \(worldSize), batch \(batch)")
        return (rank * batch / worldSize)..<((rank + 1) * batch / worldSize)
    }
}
