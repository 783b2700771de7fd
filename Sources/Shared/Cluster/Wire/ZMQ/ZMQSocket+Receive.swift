import CZMQ
import Foundation

/// A received multipart message and the authenticated identity of its sender, if any.
public struct ZMQReceivedMessage: Sendable {
    public var frames: [Data]
    /// ZAP "User-Id" of the connection (UniGuard's ZAP handler sets the client's Z85 public key).
    public var userId: String?
}

/// Owns a received zmq_msg_t until the Data viewing it is released.
private struct ReceivedMessagePointer: @unchecked Sendable {
    // @unchecked: the message is closed exactly once, by the Data deallocator, on whatever thread frees it.
    let msg: UnsafeMutablePointer<zmq_msg_t>
}

extension ZMQSocket {
    /// Receives one whole multipart message. Returns nil when nothing is available: with `dontWait`,
    /// or when a receive timeout (.receiveTimeout) expires.
    public func receiveMultipart(dontWait: Bool = false) throws -> [Data]? {
        try receiveMessage(dontWait: dontWait)?.frames
    }

    /// Waits up to `timeoutMs` (-1: forever) for a message, then receives it; nil on timeout.
    public func receiveMultipart(timeoutMs: Int) throws -> [Data]? {
        try receiveMessage(timeoutMs: timeoutMs)?.frames
    }

    /// Like receiveMultipart(timeoutMs:), also returning the sender's ZAP user id.
    public func receiveMessage(timeoutMs: Int) throws -> ZMQReceivedMessage? {
        guard try poll(.readable, timeoutMs: timeoutMs).contains(.readable) else { return nil }
        return try receiveMessage(dontWait: true)
    }

    /// Receives all parts of the next message; nil when none is available without waiting (`dontWait`).
    public func receiveMessage(dontWait: Bool) throws -> ZMQReceivedMessage? {
        let socket = try open("zmq_msg_recv")
        var frames: [Data] = []
        var userId: String?
        while true {
            let flags: Int32 = frames.isEmpty && dontWait ? ZMQ_DONTWAIT : 0
            // Metadata rides on peer-sent frames only (not on a ROUTER's own routing-id frame), so look
            // until one frame has it.
            guard let (frame, more, user) = try receiveFrame(socket, flags: flags, wantUserId: userId == nil)
            else {
                return nil  // only possible on the first part: later parts are already queued
            }
            frames.append(frame)
            userId = userId ?? user
            if !more { return ZMQReceivedMessage(frames: frames, userId: userId) }
        }
    }

    private func receiveFrame(_ socket: UnsafeMutableRawPointer, flags: Int32, wantUserId: Bool)
        throws -> (Data, Bool, String?)?
    {
        let msg = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        guard zmq_msg_init(msg) == 0 else {
            msg.deallocate()
            throw ZMQError.last("zmq_msg_init")
        }
        while zmq_msg_recv(msg, socket, flags) == -1 {
            let error = ZMQError.last("zmq_msg_recv")
            if error.isInterrupted { continue }
            zmq_msg_close(msg)
            msg.deallocate()
            if error.isWouldBlock { return nil }
            throw error
        }
        let size = zmq_msg_size(msg)
        let more = zmq_msg_more(msg) != 0
        var userId: String?
        if wantUserId, let value = zmq_msg_gets(msg, "User-Id") { userId = String(cString: value) }
        if size >= Self.zeroCopyThreshold {
            // Large frames are viewed in place; the message is closed when the Data is released.
            let owner = ReceivedMessagePointer(msg: msg)
            let data = Data(bytesNoCopy: zmq_msg_data(msg)!, count: size, deallocator: .custom { _, _ in
                zmq_msg_close(owner.msg)
                owner.msg.deallocate()
            })
            return (data, more, userId)
        }
        let data = size == 0 ? Data() : Data(bytes: zmq_msg_data(msg)!, count: size)
        zmq_msg_close(msg)
        msg.deallocate()
        return (data, more, userId)
    }
}
