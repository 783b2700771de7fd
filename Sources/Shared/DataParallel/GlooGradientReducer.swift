import Collectives
import Training

/// Gloo ring all-reduce of gradients in fixed-order buckets (DDP style).
///
/// A bucket bounds what one collective moves, so a long gradient is reduced as a fixed sequence of
/// `bucketFloats`-sized pieces (the same on every rank, as the ring needs); the sum is the same as one big
/// all-reduce up to the order in which the ring adds a chunk's contributions.
public final class GlooGradientReducer: GradientReducer {
    public let group: RingAllReduce
    public let bucketFloats: Int
    /// How long one bucket's all-reduce may wait for peers (nil: the group's timeout).
    public let timeout: Duration?

    public var rank: Int { group.rank }
    public var worldSize: Int { group.size }

    public init(group: RingAllReduce, bucketFloats: Int = 1 << 22, timeout: Duration? = nil) {
        precondition(bucketFloats > 0, "bucketFloats must be positive")
        self.group = group
        self.bucketFloats = bucketFloats
        self.timeout = timeout
    }

    public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        guard group.size > 1, let base = values.baseAddress else { return }
        var offset = 0
        while offset < values.count {
            let n = min(bucketFloats, values.count - offset)
            try group.allReduceSum(UnsafeMutableBufferPointer(start: base + offset, count: n), timeout: timeout)
            offset += n
        }
    }
}
