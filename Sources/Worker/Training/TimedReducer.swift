import Foundation
import Training

/// A reducer that measures the time its inner reducer spends summing (the all-reduce's share of a step, for
/// TrainProgress.allreduce_ms and bench/dp).
final class TimedReducer: GradientReducer, @unchecked Sendable {
    // @unchecked: `spent` is only touched by the one training thread that calls `sum`.
    let inner: any GradientReducer
    private var spent: Duration = .zero

    init(_ inner: any GradientReducer) { self.inner = inner }

    var rank: Int { inner.rank }
    var worldSize: Int { inner.worldSize }

    func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        let start = ContinuousClock.now
        defer { spent += .now - start }
        try inner.sum(values)
    }

    /// Time spent in `sum` since the last call, and reset.
    func takeSpent() -> Duration {
        defer { spent = .zero }
        return spent
    }
}
