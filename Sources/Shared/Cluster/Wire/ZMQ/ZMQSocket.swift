import CZMQ

/// One ZeroMQ socket. Not Sendable: create it, use it and close it on a single thread.
public final class ZMQSocket {
    /// Raw libzmq handle; nil after close().
    private(set) var handle: UnsafeMutableRawPointer?
    /// Retained so the context outlives the socket (zmq_ctx_term would block on an open socket).
    public let context: ZMQContext
    public let type: ZMQSocketType

    init(context: ZMQContext, type: ZMQSocketType, linger: Int32) throws {
        guard let socket = zmq_socket(context.handle, type.rawValue) else {
            throw ZMQError.last("zmq_socket")
        }
        self.handle = socket
        self.context = context
        self.type = type
        // Default linger 0: closing never blocks on unsent messages; set .linger(ms) to flush a goodbye.
        try set(.linger(milliseconds: linger))
    }

    deinit { close() }

    /// Handle of an open socket, or ENOTSOCK as a thrown error after close().
    func open(_ operation: String) throws -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError(operation: operation, code: ENOTSOCK) }
        return handle
    }

    /// Binds to an endpoint such as "tcp://127.0.0.1:0", "ipc:///tmp/x.sock" or "inproc://name".
    /// Returns the resolved endpoint (the real port when binding to port 0 or "*").
    @discardableResult
    public func bind(_ endpoint: String) throws -> String {
        let socket = try open("zmq_bind")
        guard zmq_bind(socket, endpoint) == 0 else { throw ZMQError.last("zmq_bind(\(endpoint))") }
        return (try? lastEndpoint()) ?? endpoint
    }

    /// Connects to an endpoint; libzmq reconnects by itself (see .reconnectInterval options).
    public func connect(_ endpoint: String) throws {
        let socket = try open("zmq_connect")
        guard zmq_connect(socket, endpoint) == 0 else { throw ZMQError.last("zmq_connect(\(endpoint))") }
    }

    public func disconnect(_ endpoint: String) throws {
        let socket = try open("zmq_disconnect")
        guard zmq_disconnect(socket, endpoint) == 0 else { throw ZMQError.last("zmq_disconnect(\(endpoint))") }
    }

    public func unbind(_ endpoint: String) throws {
        let socket = try open("zmq_unbind")
        guard zmq_unbind(socket, endpoint) == 0 else { throw ZMQError.last("zmq_unbind(\(endpoint))") }
    }

    /// The endpoint last bound or connected, with the port resolved.
    public func lastEndpoint() throws -> String {
        try stringOption(ZMQ_LAST_ENDPOINT)
    }

    /// Closes the socket; further calls throw ENOTSOCK. Idempotent.
    public func close() {
        guard let handle else { return }
        zmq_close(handle)
        self.handle = nil
    }

    public var isClosed: Bool { handle == nil }
}

// Sockets are not thread-safe (libzmq rule); forbid any Sendable conformance explicitly.
@available(*, unavailable)
extension ZMQSocket: Sendable {}
