import CGloo
import Runtime

/// One rank of a group connected through Gloo, all-reducing float buffers in place with the ring algorithm
/// (each rank sends and receives 2(N-1)/N of the buffer). A training step all-reduces one flat gradient
/// buffer: every rank calls `allReduceSum` or `allReduceAverage` with the same element count, in the same
/// order. Collectives on one instance run one at a time (a lock serialises them, so the type is Sendable).
///
/// After a failure (a peer gone, a timeout) the group is unusable and every later call throws
/// `CollectiveError.groupBroken`: connect a new group, e.g. under a new `RendezvousStore.prefixed` generation.
public final class RingAllReduce: Sendable {
    public let rank: Int
    public let size: Int
    /// The rendezvous timeout and the default timeout of each collective.
    public let timeout: Duration
    public let device: TCPDevice

    private struct State {
        var context: OpaquePointer?
        var failure: CollectiveError?
    }
    private let state: Guarded<State>

    /// Publishes this rank's address in `store`, waits up to `timeout` for every peer's and connects to all of
    /// them. Throws `CollectiveError.rendezvousTimeout` if a peer does not show up in time.
    public init(rank: Int, size: Int, store: RendezvousStore, device: TCPDevice, timeout: Duration = .seconds(30))
        throws(CollectiveError)
    {
        guard size >= 1, (0..<size).contains(rank), timeout > .zero,
              let rank32 = Int32(exactly: rank), let size32 = Int32(exactly: size)
        else {
            throw .invalidArgument("rank \(rank) of \(size) with timeout \(timeout): need 0 <= rank < size and a positive timeout")
        }
        self.rank = rank
        self.size = size
        self.timeout = timeout
        self.device = device
        let shimStore = try store.makeShimStore()
        defer { cgloo_store_destroy(shimStore) }
        var error = cgloo_error()
        guard let context = cgloo_context_connect(rank32, size32, shimStore, device.handle, timeout.collectiveMilliseconds, &error)
        else {
            throw CollectiveError(error, context: "rank \(rank) of \(size)")
        }
        state = Guarded(State(context: context, failure: nil))
    }

    /// Sums `buffer` element-wise over every rank, in place. `timeout` (default: the group's) bounds the
    /// whole collective.
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, timeout: Duration? = nil) throws(CollectiveError) {
        let milliseconds = (timeout ?? self.timeout).collectiveMilliseconds
        let result: CollectiveError? = state.withLock { state in
            if let failure = state.failure { return .groupBroken(failure.description) }
            guard let context = state.context else { return .groupBroken("rank \(rank) of \(size): closed") }
            var error = cgloo_error()
            let code = cgloo_allreduce_sum_float(context, buffer.baseAddress, buffer.count, milliseconds, &error)
            guard code == Int32(CGLOO_OK.rawValue) else {
                let failure = CollectiveError(error, context: "rank \(rank) of \(size), \(buffer.count) floats")
                if case .invalidArgument = failure {} else { state.failure = failure }
                return failure
            }
            return nil
        }
        if let result { throw result }
    }

    /// The element-wise mean over every rank, in place: the sum divided by `size` (what data-parallel
    /// training applies to the summed gradients).
    public func allReduceAverage(_ buffer: UnsafeMutableBufferPointer<Float>, timeout: Duration? = nil) throws(CollectiveError) {
        try allReduceSum(buffer, timeout: timeout)
        if size > 1, let base = buffer.baseAddress { cgloo_divide_float(base, buffer.count, Float(size)) }
    }

    /// `allReduceSum` of an array.
    public func allReduceSum(_ values: inout [Float], timeout: Duration? = nil) throws(CollectiveError) {
        let result: CollectiveError? = values.withUnsafeMutableBufferPointer { buffer in
            do throws(CollectiveError) { try allReduceSum(buffer, timeout: timeout) } catch { return error }
            return nil
        }
        if let result { throw result }
    }

    /// `allReduceAverage` of an array.
    public func allReduceAverage(_ values: inout [Float], timeout: Duration? = nil) throws(CollectiveError) {
        let result: CollectiveError? = values.withUnsafeMutableBufferPointer { buffer in
            do throws(CollectiveError) { try allReduceAverage(buffer, timeout: timeout) } catch { return error }
            return nil
        }
        if let result { throw result }
    }

    /// Closes this rank's connections (after a collective in progress on another thread returns); peers see
    /// it as gone, and later collectives here throw `groupBroken`.
    public func close() {
        state.withLock { state in
            if let context = state.context { cgloo_context_destroy(context) }
            state.context = nil
        }
    }

    deinit { close() }
}
