import Foundation

/// A message read from a socket: who sent it and either the decoded message or why it was rejected.
public struct WireReceipt: Sendable {
    /// The sender's routing id on a ROUTER socket (also set when decoding failed, so the caller can
    /// send an Error reply); nil on other socket types or when the routing-id frame itself was bad.
    public var peer: Data?
    /// The connection's ZAP user id (the client's Z85 public key under CURVE), if authenticated.
    public var userId: String?
    public var result: Result<WireMessage, WireError>
}

extension ZMQSocket {
    /// Applies the codec's frame limit at the transport too, so libzmq disconnects peers sending
    /// oversized frames before they are buffered whole.
    public func apply(_ limits: WireLimits) throws {
        try set(.maxMessageSize(Int64(limits.maxFrameBytes)))
    }

    /// Encodes and sends a protocol message; `peer` is required on ROUTER sockets. Raw frames above
    /// `zeroCopyThreshold` are sent without copying. With `dontWait`, a full queue throws (isWouldBlock).
    public func send(_ message: WireMessage, to peer: Data? = nil, codec: WireCodec = WireCodec(),
                     dontWait: Bool = false) throws {
        let frames = try peer.map { peer throws(WireError) in try codec.encode(message, to: peer) }
            ?? codec.encode(message)
        try send(frames, dontWait: dontWait)
    }

    /// Waits up to `timeoutMs` (-1: forever) for one message and decodes it; nil on timeout.
    /// Decoding failures are returned, not thrown: only transport errors throw.
    public func receiveWire(timeoutMs: Int, codec: WireCodec = WireCodec()) throws -> WireReceipt? {
        guard let received = try receiveMessage(timeoutMs: timeoutMs) else { return nil }
        return decodeReceipt(received, codec: codec)
    }

    /// Non-blocking variant for poll loops: nil when no message is waiting.
    public func receiveWire(dontWait: Bool, codec: WireCodec = WireCodec()) throws -> WireReceipt? {
        guard let received = try receiveMessage(dontWait: dontWait) else { return nil }
        return decodeReceipt(received, codec: codec)
    }

    private func decodeReceipt(_ received: ZMQReceivedMessage, codec: WireCodec) -> WireReceipt {
        guard type == .router else {
            return WireReceipt(peer: nil, userId: received.userId,
                               result: Result { () throws(WireError) in try codec.decode(received.frames) })
        }
        let peer = received.frames.first.flatMap { (1...255).contains($0.count) ? $0 : nil }
        let result = Result { () throws(WireError) in try codec.decodeRouted(received.frames).message }
        return WireReceipt(peer: peer, userId: received.userId, result: result)
    }
}
