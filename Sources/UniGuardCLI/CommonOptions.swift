import ArgumentParser
import EncoderModel
import Foundation
import Runtime

/// `--model DIR` (default: the cached base model) and `--threads N`, shared by model commands.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model directory (default: the cached base model all-MiniLM-L6-v2).")
    var model: String?

    @Option(name: .long, help: "Threads for BLAS and kernels (default: all cores).")
    var threads: Int?

    func directory() throws -> URL {
        if let model { return URL(fileURLWithPath: model) }
        return try UniGuardHome.requireBaseModel()
    }

    func applyThreads() { Self.apply(threads: threads) }

    /// Sets BLAS and kernel threads (default: all cores).
    static func apply(threads: Int?) {
        let n = threads ?? ProcessInfo.processInfo.activeProcessorCount
        BLASRuntime.setThreads(n)
        Parallel.setThreads(n)
    }
}
