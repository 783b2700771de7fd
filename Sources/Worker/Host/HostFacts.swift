import Foundation

/// Facts about this host and process that the worker reports in its heartbeats.
enum HostFacts {
    /// The 1-minute load average (0 when unknown).
    static func loadAverage() -> Float {
        var loads = [Double](repeating: 0, count: 3)
        return getloadavg(&loads, 1) == 1 ? Float(loads[0]) : 0
    }

    /// Resident set size of this process, from /proc (0 when unknown).
    static func residentBytes() -> UInt64 {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = UInt64(fields[1]) else { return 0 }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
