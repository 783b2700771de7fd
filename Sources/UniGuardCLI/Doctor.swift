import ArgumentParser
import Foundation
import Runtime

/// `uniguard doctor`: what this machine gives UniGuard (BLAS kernel, threads, base model).
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the BLAS kernel, CPU flags and base-model cache.")

    func run() throws {
        print("version      \(UniGuardVersion.number)")
        print("blas         \(BLASRuntime.summary)")
        print("blas config  \(BLASRuntime.config)")
        let flags = BLASRuntime.cpuFlags()
        print("cpu          \(BLASRuntime.preferredCore(cpuFlags: flags) ?? "no AVX2/AVX-512") class; \(ProcessInfo.processInfo.activeProcessorCount) cores")
    }
}
