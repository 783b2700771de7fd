import CZMQ

/// A libzmq context: thread-safe, so it is the one ZeroMQ object shared between threads.
public final class ZMQContext: @unchecked Sendable {
    // libzmq documents contexts as thread-safe; sockets are not, hence ZMQSocket is not Sendable.
    let handle: UnsafeMutableRawPointer

    /// Process-wide context for daemons; tests create their own so ZAP handlers do not collide.
    public static let shared: ZMQContext = {
        do { return try ZMQContext() } catch { fatalError("cannot create ZeroMQ context: \(error)") }
    }()

    public init(ioThreads: Int32 = 1) throws {
        guard let ctx = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        handle = ctx
        if ioThreads != 1, zmq_ctx_set(ctx, ZMQ_IO_THREADS, ioThreads) != 0 {
            let error = ZMQError.last("zmq_ctx_set(IO_THREADS)")
            zmq_ctx_term(ctx)
            throw error
        }
    }

    /// Creates a socket; call on the thread that will use it (sockets must not cross threads).
    public func socket(_ type: ZMQSocketType, linger: Int32 = 0) throws -> ZMQSocket {
        try ZMQSocket(context: self, type: type, linger: linger)
    }

    /// Makes every blocking call on this context's sockets fail with ETERM, so owning threads can exit.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    /// libzmq version, e.g. "4.3.4".
    public static var libraryVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }

    /// Whether libzmq was built with a capability, e.g. "curve" or "ipc".
    public static func has(_ capability: String) -> Bool {
        zmq_has(capability) != 0
    }

    deinit {
        // Sockets retain their context, so by now every socket is closed and term cannot block.
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }
}
