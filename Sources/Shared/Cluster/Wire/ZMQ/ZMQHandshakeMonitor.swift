import CZMQ
import Foundation
import Runtime

/// What a socket monitor says about a connection's security handshake.
public enum ZMQHandshakeEvent: Sendable, Equatable {
    case succeeded
    /// The peer's ZAP handler refused us (status code, e.g. 400: key not allowed).
    case refused(status: Int)
    /// The handshake broke (e.g. plain text against CURVE, or a wrong server key).
    case failedProtocol(code: Int)
    case failedNoDetail

    /// How much the event says about a failure (a refusal says most), so the most telling one is reported.
    public var detail: Int {
        switch self {
        case .succeeded, .failedNoDetail: 0
        case .failedProtocol: 1
        case .refused: 2
        }
    }

    /// A human sentence for logs.
    public var explanation: String {
        switch self {
        case .succeeded: "handshake succeeded"
        case .refused(let status): "the coordinator refused the CURVE handshake: this worker's key is not authorised (ZAP status \(status))"
        case .failedProtocol(let code): "the security handshake failed (protocol error 0x\(String(code, radix: 16)): CURVE keys or mechanism do not match the coordinator's)"
        case .failedNoDetail: "the security handshake failed"
        }
    }
}

/// Handshake events of one socket, read from a ZMQ socket monitor (`zmq_socket_monitor` over inproc).
///
/// Why: a refused CURVE client sees only silence on its socket; the monitor tells it that it was refused.
public final class ZMQHandshakeMonitor {
    private let pair: ZMQSocket
    /// Numbers the inproc endpoints: each monitor needs its own.
    private static let counter = Guarded(0)

    /// Starts monitoring `socket` (call before connecting it).
    public init(_ socket: ZMQSocket) throws {
        let name = Self.counter.withLock { n -> String in
            n += 1
            return "inproc://uniguard-monitor-\(n)"
        }
        let events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
            | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
        guard zmq_socket_monitor(try socket.open("zmq_socket_monitor"), name, events) == 0 else {
            throw ZMQError.last("zmq_socket_monitor")
        }
        pair = try socket.context.socket(.pair)
        try pair.connect(name)
    }

    /// Events that arrived since the last call, without waiting.
    public func drain() throws -> [ZMQHandshakeEvent] {
        var out: [ZMQHandshakeEvent] = []
        while let frames = try pair.receiveMultipart(dontWait: true) {
            guard let head = frames.first, head.count >= 6 else { continue }
            // Frame 1: uint16 event and uint32 value, in host byte order; frame 2: the endpoint.
            let (event, value) = head.withUnsafeBytes {
                (Int32($0.loadUnaligned(as: UInt16.self)), Int($0.loadUnaligned(fromByteOffset: 2, as: UInt32.self)))
            }
            switch event {
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: out.append(.succeeded)
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: out.append(.refused(status: value))
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: out.append(.failedProtocol(code: value))
            case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: out.append(.failedNoDetail)
            default: break
            }
        }
        return out
    }

    public func close() { pair.close() }
}
