import CBLAS
import Foundation

/// OpenBLAS runtime control: kernel selection on CPUs this OpenBLAS build does not recognise, and threads.
public enum BLASRuntime {
    /// The kernel family OpenBLAS chose at load time ("SkylakeX", "Haswell", "Prescott", ...).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS build configuration string.
    public static var config: String { String(cString: openblas_get_config()) }

    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// Kernels OpenBLAS falls back to when its CPU table does not know the processor.
    static let fallbackCores: Set<String> = ["prescott", "katmai", "coppermine", "northwood", "core2", "penryn",
                                              "dunnington", "nehalem", "atom", "generic"]

    /// The best kernel family the CPU's flags allow, or nil when we have nothing better to offer.
    public static func preferredCore(cpuFlags: Set<String>) -> String? {
        if cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]) { return "SkylakeX" }
        if cpuFlags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// Flags of the first processor in /proc/cpuinfo (empty where it cannot be read).
    public static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }

    /// OpenBLAS reads OPENBLAS_CORETYPE only when the library loads, so setting it in-process is too late:
    /// when the loaded kernel is a generic fallback and the CPU supports better, re-exec ourselves with the
    /// variable set. Call first thing in `main`. A user's own OPENBLAS_CORETYPE always wins.
    public static func ensureFastKernels() {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env["UNIGUARD_BLAS_REEXEC"] == nil else { return }
        guard fallbackCores.contains(coreName.lowercased()),
              let better = preferredCore(cpuFlags: cpuFlags()) else { return }
        setenv("OPENBLAS_CORETYPE", better, 1)
        setenv("UNIGUARD_BLAS_REEXEC", "1", 1)
        let args = CommandLine.arguments
        var cargs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cargs.append(nil)
        execv("/proc/self/exe", &cargs)
        // execv only returns on failure: carry on with the slow kernels rather than die.
        unsetenv("UNIGUARD_BLAS_REEXEC")
    }

    /// One line for `--version` and status output.
    public static var summary: String {
        let forced = ProcessInfo.processInfo.environment["UNIGUARD_BLAS_REEXEC"] != nil
        return "OpenBLAS core \(coreName)\(forced ? " (selected by UniGuard: CPU unknown to this OpenBLAS)" : "")"
    }
}
