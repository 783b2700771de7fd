/// Failures creating, parsing or storing CURVE keys.
public enum CurveError: Error, Equatable, Sendable, CustomStringConvertible {
    case unavailable
    case invalidKey(String)
    case generationFailed(String)
    case file(path: String, reason: String)
    case insecurePermissions(path: String, mode: UInt32)

    public var description: String {
        switch self {
        case .unavailable: "libzmq was built without CURVE support"
        case .invalidKey(let reason): "invalid CURVE key: \(reason)"
        case .generationFailed(let reason): "cannot generate CURVE key pair: \(reason)"
        case .file(let path, let reason): "\(path): \(reason)"
        case .insecurePermissions(let path, let mode):
            "\(path): secret key file is readable by others (mode \(String(mode, radix: 8))); run chmod 600 \(path)"
        }
    }
}
