import Foundation
@testable import Runtime
import XCTest

/// The OpenBLAS kernel choice at start-up: a generic fallback kernel is replaced by re-executing with
/// OPENBLAS_CORETYPE set (when the CPU supports better), and a user's own OPENBLAS_CORETYPE always wins.
final class BLASReexecTests: XCTestCase {
    func doctor(_ environment: [String: String?]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try ClusterBinaries.require() + "/uniguard")
        p.arguments = ["doctor"]
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        return text
    }

    /// The core name on the `blas` line of `uniguard doctor`.
    func core(_ text: String) throws -> String {
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("blas ") }, text)
        let words = line.split(separator: " ")
        let i = try XCTUnwrap(words.firstIndex(of: "core"), text)
        return String(words[i + 1])
    }

    func testNeverRunsOnAFallbackKernelWhenTheCPUSupportsBetter() throws {
        let text = try doctor(["OPENBLAS_CORETYPE": nil, "OPENBLAS_L2_SIZE": nil, "UNIGUARD_BLAS_REEXEC": nil])
        let chosen = try core(text)
        guard let better = BLASRuntime.preferredCore(cpuFlags: BLASRuntime.cpuFlags()) else { return }
        XCTAssertFalse(BLASRuntime.fallbackCores.contains(chosen.lowercased()), "still on a fallback kernel: \(text)")
        if text.contains("selected by UniGuard") { XCTAssertEqual(chosen, better, text) }
    }

    func testAUsersCoreTypeWins() throws {
        let text = try doctor(["OPENBLAS_CORETYPE": "Haswell", "UNIGUARD_BLAS_REEXEC": nil])
        XCTAssertEqual(try core(text), "Haswell", text)
        XCTAssertFalse(text.contains("selected by UniGuard"), text)
    }

    func testPreferredCoreFromCPUFlags() {
        let avx512: Set<String> = ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx2", "fma"]
        XCTAssertEqual(BLASRuntime.preferredCore(cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(BLASRuntime.preferredCore(cpuFlags: ["avx2", "fma", "avx512f"]), "Haswell", "partial AVX-512")
        XCTAssertNil(BLASRuntime.preferredCore(cpuFlags: ["avx", "sse4_2"]))
    }
}
