import Dispatch
import Foundation

/// Splits row-parallel elementwise work across the configured number of threads.
public enum Parallel {
    private static let state = ThreadCount()

    /// Threads used by our own kernels (OpenBLAS has its own setting; `Runtime.setThreads` sets both).
    public static var threads: Int { state.value }

    public static func setThreads(_ n: Int) { state.value = Swift.max(1, n) }

    /// Calls `body` on disjoint contiguous sub-ranges of 0..<n, concurrently when n is worth splitting.
    public static func forRanges(_ n: Int, minPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let t = Swift.min(threads, Swift.max(1, n / Swift.max(1, minPerChunk)))
        if t <= 1 { body(0..<n); return }
        let chunk = (n + t - 1) / t
        // The ranges are disjoint, so the caller's closure (capturing raw buffers) is safe to share.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: t) { i in
                let lo = i * chunk, hi = Swift.min(n, lo + chunk)
                if lo < hi { shared.value(lo..<hi) }
            }
        }
    }
}

extension Parallel {
    /// As `forRanges`, also passing the chunk's index (< `threads`), e.g. to pick per-thread scratch memory.
    public static func forChunks(_ n: Int, _ body: (Int, Range<Int>) -> Void) {
        let t = Swift.min(threads, Swift.max(1, n))
        if t <= 1 { body(0, 0..<n); return }
        let chunk = (n + t - 1) / t
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: t) { i in
                let lo = i * chunk, hi = Swift.min(n, lo + chunk)
                if lo < hi { shared.value(i, lo..<hi) }
            }
        }
    }
}

/// A lock-protected integer (Swift 6 forbids unsynchronised global mutable state).
final class ThreadCount: @unchecked Sendable {
    private let lock = NSLock()
    private var n: Int = Swift.max(1, Swift.min(ProcessInfo.processInfo.activeProcessorCount, 8))
    var value: Int {
        get { lock.lock(); defer { lock.unlock() }; return n }
        set { lock.lock(); n = newValue; lock.unlock() }
    }
}

/// Carries a value the caller promises is used race-free across threads.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
