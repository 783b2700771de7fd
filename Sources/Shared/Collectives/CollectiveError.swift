import CGloo

/// Why a rendezvous or a collective failed. Each case carries Gloo's (or the store's) message, prefixed with
/// the rank and group size. After any of them but `invalidArgument` the group is unusable: connect a new one
/// (the next generation).
public enum CollectiveError: Error, Equatable, CustomStringConvertible, Sendable {
    case invalidArgument(String)
    /// A peer never showed up: the store wait or the connect ran past the timeout.
    case rendezvousTimeout(String)
    /// A collective ran past its timeout: a peer stopped answering.
    case timeout(String)
    /// A peer closed its connection (it exited or was killed) or the connection failed.
    case peerGone(String)
    /// The rendezvous store failed (a callback reported failure, a file could not be written).
    case storeFailed(String)
    /// The TCP device could not be created (unknown interface, unresolvable hostname).
    case deviceFailed(String)
    /// A collective was called on a group an earlier failure left unusable.
    case groupBroken(String)
    case internalError(String)

    public var message: String {
        switch self {
        case .invalidArgument(let m), .rendezvousTimeout(let m), .timeout(let m), .peerGone(let m), .storeFailed(let m),
             .deviceFailed(let m), .groupBroken(let m), .internalError(let m):
            return m
        }
    }

    public var description: String {
        switch self {
        case .invalidArgument(let m): return "invalid collective argument: \(m)"
        case .rendezvousTimeout(let m): return "rendezvous timed out (a peer never showed up): \(m)"
        case .timeout(let m): return "collective timed out (a peer stopped answering): \(m)"
        case .peerGone(let m): return "peer gone: \(m)"
        case .storeFailed(let m): return "rendezvous store failed: \(m)"
        case .deviceFailed(let m): return "cannot create the Gloo TCP device: \(m)"
        case .groupBroken(let m): return "the group is unusable after an earlier failure: \(m)"
        case .internalError(let m): return "Gloo failed: \(m)"
        }
    }

    /// The error a shim call reported, with `context` (who was calling) before its message.
    init(_ error: cgloo_error, context: String) {
        var copy = error
        let text = withUnsafeBytes(of: &copy.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        let message = context.isEmpty ? text : "\(context): \(text)"
        switch cgloo_code(rawValue: UInt32(bitPattern: error.code)) {
        case CGLOO_INVALID_ARGUMENT: self = .invalidArgument(message)
        case CGLOO_RENDEZVOUS_TIMEOUT: self = .rendezvousTimeout(message)
        case CGLOO_TIMEOUT: self = .timeout(message)
        case CGLOO_PEER_GONE: self = .peerGone(message)
        case CGLOO_STORE_FAILED: self = .storeFailed(message)
        case CGLOO_DEVICE_FAILED: self = .deviceFailed(message)
        default: self = .internalError(message)
        }
    }
}

extension Duration {
    /// Whole milliseconds, at least 1 for a positive duration.
    var collectiveMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return milliseconds == 0 && self > .zero ? 1 : milliseconds
    }
}
