import CZMQ
import Foundation

/// Socket options UniGuard sets, with typed values (times in milliseconds, sizes in bytes/messages).
public enum ZMQSocketOption: Sendable {
    /// How long close() keeps unsent messages; 0 drops them, -1 waits forever.
    case linger(milliseconds: Int32)
    /// ROUTER: sending to an unknown routing id fails with EHOSTUNREACH, and to a peer whose queue is full
    /// with EAGAIN (when not waiting), instead of the message being dropped silently.
    case routerMandatory(Bool)
    /// ROUTER: a new connection with an existing routing id takes it over (a restarted worker).
    case routerHandover(Bool)
    /// Bounded send queue per peer, in messages; beyond it sends block or fail with EAGAIN.
    case sendHighWaterMark(Int32)
    /// Bounded receive queue per peer, in messages.
    case receiveHighWaterMark(Int32)
    /// Largest inbound frame in bytes; libzmq drops the connection of a peer that sends more. -1: no limit.
    case maxMessageSize(Int64)
    /// Routing id this socket presents to a ROUTER peer (set before connect).
    case routingId(Data)
    /// First reconnect delay, and the cap of its exponential back-off (0 = no back-off).
    case reconnectInterval(milliseconds: Int32)
    case reconnectIntervalMax(milliseconds: Int32)
    /// ZMTP heartbeats: ping interval, time to wait for a pong, and the TTL asked of the peer.
    case heartbeatInterval(milliseconds: Int32)
    case heartbeatTimeout(milliseconds: Int32)
    case heartbeatTTL(milliseconds: Int32)
    /// Queue messages only to completed connections (no queueing for peers that are not there yet).
    case immediate(Bool)
    /// Blocking send/receive give up after this long with EAGAIN; -1 waits forever.
    case sendTimeout(milliseconds: Int32)
    case receiveTimeout(milliseconds: Int32)
    /// SUB: subscribe to a topic prefix.
    case subscribe(Data)
    /// CURVE (see ZMQSocket+Curve): act as server, and the 32-byte keys.
    case curveServer(Bool)
    case curvePublicKey(Data)
    case curveSecretKey(Data)
    case curveServerKey(Data)
    /// ZAP domain passed to the authentication handler.
    case zapDomain(String)
}

extension ZMQSocket {
    /// Sets options in order; throws on the first one libzmq rejects.
    public func set(_ options: ZMQSocketOption...) throws {
        for option in options { try set(option) }
    }

    public func set(_ option: ZMQSocketOption) throws {
        switch option {
        case .linger(let ms): try setInt(ZMQ_LINGER, ms, "LINGER")
        case .routerMandatory(let on): try setInt(ZMQ_ROUTER_MANDATORY, on ? 1 : 0, "ROUTER_MANDATORY")
        case .routerHandover(let on): try setInt(ZMQ_ROUTER_HANDOVER, on ? 1 : 0, "ROUTER_HANDOVER")
        case .sendHighWaterMark(let n): try setInt(ZMQ_SNDHWM, n, "SNDHWM")
        case .receiveHighWaterMark(let n): try setInt(ZMQ_RCVHWM, n, "RCVHWM")
        case .maxMessageSize(let bytes):
            var value = bytes
            try setRaw(ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size, "MAXMSGSIZE")
        case .routingId(let id): try setData(ZMQ_ROUTING_ID, id, "ROUTING_ID")
        case .reconnectInterval(let ms): try setInt(ZMQ_RECONNECT_IVL, ms, "RECONNECT_IVL")
        case .reconnectIntervalMax(let ms): try setInt(ZMQ_RECONNECT_IVL_MAX, ms, "RECONNECT_IVL_MAX")
        case .heartbeatInterval(let ms): try setInt(ZMQ_HEARTBEAT_IVL, ms, "HEARTBEAT_IVL")
        case .heartbeatTimeout(let ms): try setInt(ZMQ_HEARTBEAT_TIMEOUT, ms, "HEARTBEAT_TIMEOUT")
        case .heartbeatTTL(let ms): try setInt(ZMQ_HEARTBEAT_TTL, ms, "HEARTBEAT_TTL")
        case .immediate(let on): try setInt(ZMQ_IMMEDIATE, on ? 1 : 0, "IMMEDIATE")
        case .sendTimeout(let ms): try setInt(ZMQ_SNDTIMEO, ms, "SNDTIMEO")
        case .receiveTimeout(let ms): try setInt(ZMQ_RCVTIMEO, ms, "RCVTIMEO")
        case .subscribe(let prefix): try setData(ZMQ_SUBSCRIBE, prefix, "SUBSCRIBE")
        case .curveServer(let on): try setInt(ZMQ_CURVE_SERVER, on ? 1 : 0, "CURVE_SERVER")
        case .curvePublicKey(let key): try setData(ZMQ_CURVE_PUBLICKEY, key, "CURVE_PUBLICKEY")
        case .curveSecretKey(let key): try setData(ZMQ_CURVE_SECRETKEY, key, "CURVE_SECRETKEY")
        case .curveServerKey(let key): try setData(ZMQ_CURVE_SERVERKEY, key, "CURVE_SERVERKEY")
        case .zapDomain(let domain): try setData(ZMQ_ZAP_DOMAIN, Data(domain.utf8), "ZAP_DOMAIN")
        }
    }

    /// Reads an int-valued option (e.g. ZMQ_SNDHWM, ZMQ_EVENTS).
    public func intOption(_ option: Int32) throws -> Int32 {
        let socket = try open("zmq_getsockopt")
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        guard zmq_getsockopt(socket, option, &value, &size) == 0 else {
            throw ZMQError.last("zmq_getsockopt(\(option))")
        }
        return value
    }

    /// Reads a binary option (e.g. ZMQ_ROUTING_ID) up to 255 bytes.
    public func dataOption(_ option: Int32) throws -> Data {
        let socket = try open("zmq_getsockopt")
        var buffer = [UInt8](repeating: 0, count: 256)
        var size = buffer.count
        guard zmq_getsockopt(socket, option, &buffer, &size) == 0 else {
            throw ZMQError.last("zmq_getsockopt(\(option))")
        }
        return Data(buffer[0..<size])
    }

    /// Reads a NUL-terminated string option (e.g. ZMQ_LAST_ENDPOINT).
    public func stringOption(_ option: Int32) throws -> String {
        var data = try dataOption(option)
        if let nul = data.firstIndex(of: 0) { data = data[..<nul] }
        return String(decoding: data, as: UTF8.self)
    }

    /// This socket's routing id as set by .routingId (empty if none).
    public func routingId() throws -> Data { try dataOption(ZMQ_ROUTING_ID) }

    private func setInt(_ option: Int32, _ value: Int32, _ name: String) throws {
        var value = value
        try setRaw(option, &value, MemoryLayout<Int32>.size, name)
    }

    private func setData(_ option: Int32, _ value: Data, _ name: String) throws {
        let socket = try open("zmq_setsockopt")
        let rc = value.withUnsafeBytes { zmq_setsockopt(socket, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw ZMQError.last("zmq_setsockopt(\(name))") }
    }

    private func setRaw(_ option: Int32, _ value: UnsafeRawPointer, _ size: Int, _ name: String) throws {
        let socket = try open("zmq_setsockopt")
        guard zmq_setsockopt(socket, option, value, size) == 0 else {
            throw ZMQError.last("zmq_setsockopt(\(name))")
        }
    }
}
