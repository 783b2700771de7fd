import ArgumentParser
import EncoderModel
import Foundation
import Runtime

/// `--threads N`: BLAS and kernel threads, declared once for every command that computes (and the worker).
public struct ThreadOptions: ParsableArguments {
    /// Far above any machine's cores: a larger value is a typo, and each thread costs a stack.
    public static let maximum = 1024

    @Option(help: "BLAS and kernel threads per task (default: all cores; a worker divides them among its --slots).")
    public var threads: Int?

    public init() {}

    public func validate() throws {
        try OptionCheck.within(1...Self.maximum, threads, "--threads")
    }

    /// Sets OpenBLAS's and our kernels' threads to `--threads`, else `fallback`; returns the count in use.
    @discardableResult
    public func apply(default fallback: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        let n = threads ?? max(1, fallback)
        BLASRuntime.setThreads(n)
        Parallel.setThreads(n)
        return n
    }
}
