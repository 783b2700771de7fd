import CZMQ
import Foundation

/// A failed libzmq call: the operation, errno, and zmq_strerror's text.
public struct ZMQError: Error, Equatable, Sendable, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    public let message: String

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
        self.message = String(cString: zmq_strerror(code))
    }

    /// Reads errno right after a failed zmq_* call.
    static func last(_ operation: String) -> ZMQError {
        ZMQError(operation: operation, code: zmq_errno())
    }

    /// Non-blocking operation could not complete now (HWM reached or nothing to receive).
    public var isWouldBlock: Bool { code == EAGAIN }
    /// ROUTER_MANDATORY: the routing id names no connected peer.
    public var isHostUnreachable: Bool { code == EHOSTUNREACH }
    /// The context was terminated; the owning thread should close its sockets and exit.
    public var isTerminated: Bool { code == ETERM }
    /// A signal interrupted a blocking call; retrying is safe.
    public var isInterrupted: Bool { code == EINTR }

    public var description: String { "\(operation): \(message) (errno \(code))" }
}
