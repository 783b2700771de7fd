/// Why a multipart message was rejected by WireCodec; each case maps to a protocol ErrorCode for replies.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    case noFrames
    /// ROUTER side: the routing-id frame is missing, empty or longer than ZeroMQ allows.
    case invalidRoutingId(size: Int)
    case emptyEnvelope
    case tooManyFrames(count: Int, limit: Int)
    case frameTooLarge(index: Int, size: Int, limit: Int)
    /// The envelope frame is not a valid protobuf Envelope.
    case malformedEnvelope(reason: String)
    case unsupportedVersion(received: UInt32, supported: UInt32)
    /// No known payload: garbage that parsed, or a payload added by a newer protocol revision.
    case missingPayload
    case rawFrameCountMismatch(declared: UInt32, received: Int)
    /// The payload is well-formed protobuf but breaks a rule of the protocol (see the reason).
    case invalidPayload(reason: String)

    public var description: String {
        switch self {
        case .noFrames: "empty message (no frames)"
        case .invalidRoutingId(let size): "invalid routing id frame (\(size) bytes, expected 1...255)"
        case .emptyEnvelope: "empty envelope frame"
        case .tooManyFrames(let count, let limit): "too many frames: \(count) (limit \(limit))"
        case .frameTooLarge(let index, let size, let limit):
            "frame \(index) is \(size) bytes (limit \(limit))"
        case .malformedEnvelope(let reason): "malformed envelope: \(reason)"
        case .unsupportedVersion(let received, let supported):
            received == 0
                ? "envelope has no protocol version (expected \(supported))"
                : "unsupported protocol version \(received) (expected \(supported))"
        case .missingPayload: "envelope has no known payload"
        case .rawFrameCountMismatch(let declared, let received):
            "envelope declares \(declared) raw frames but \(received) arrived"
        case .invalidPayload(let reason): "invalid payload: \(reason)"
        }
    }

    /// The protocol error code to put in an Error reply to the sender.
    public var errorCode: Uniguard_V1_ErrorCode {
        switch self {
        case .unsupportedVersion: .unsupportedVersion
        case .frameTooLarge: .frameTooLarge
        default: .malformed
        }
    }
}
