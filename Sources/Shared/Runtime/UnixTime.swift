import Foundation

/// Wall-clock time in milliseconds since the Unix epoch (persisted deadlines, status output).
public enum UnixTime {
    public static func nowMs() -> UInt64 { UInt64(max(Date().timeIntervalSince1970 * 1000, 0)) }
}
