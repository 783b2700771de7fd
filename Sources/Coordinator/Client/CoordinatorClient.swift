import Cluster
import Foundation

/// Why a client command failed; printed as is.
struct ClientError: Error, CustomStringConvertible {
    var description: String
}

/// A short-lived DEALER connection for client commands: one request, one reply, bounded by a timeout.
final class CoordinatorClient {
    let endpoint: String
    let timeoutMs: Int
    private let context: ZMQContext
    private let socket: ZMQSocket
    private let codec: WireCodec
    private var nextID: UInt64 = 1

    init(endpoint: String, timeoutMs: Int, curve: (keys: CurveKeyPair, server: CurveKey)?, limits: WireLimits) throws {
        self.endpoint = endpoint
        self.timeoutMs = timeoutMs
        context = try ZMQContext()
        socket = try context.socket(.dealer)
        codec = WireCodec(limits: limits)
        try socket.apply(limits)
        if let curve { try socket.enableCurveClient(keys: curve.keys, serverKey: curve.server) }
        try socket.connect(endpoint)
    }

    /// Sends a request and waits for the reply that quotes it; coordinator errors become ClientError.
    func request(_ payload: WireEnvelope.OneOf_Payload, jobID: String = "") throws -> WireMessage {
        let id = nextID
        nextID += 1
        try socket.send(WireMessage(payload, messageId: id, jobId: jobID), codec: codec)
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero, let receipt = try socket.receiveWire(timeoutMs: Int(remaining / .milliseconds(1)) + 1, codec: codec)
            else {
                throw ClientError(description: "no coordinator answered at \(endpoint) within \(timeoutMs) ms "
                    + "(is `coordinator serve` running there? check --config / --endpoint, and CURVE keys if enabled)")
            }
            guard case .success(let reply) = receipt.result else { continue }
            guard reply.envelope.replyTo == id || reply.envelope.replyTo == 0 else { continue }
            if case .error(let error)? = reply.payload {
                throw ClientError(description: "coordinator: \(error.message)")
            }
            if case .heartbeat? = reply.payload { continue }
            return reply
        }
    }
}
