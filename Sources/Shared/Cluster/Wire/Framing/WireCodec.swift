import Foundation
import SwiftProtobuf

/// Turns WireMessages into ZeroMQ frames and back, validating everything it decodes.
///
/// Layout: `[routing id]` (ROUTER side only), one protobuf Envelope frame, then `raw_frame_count` raw frames.
/// Decoding never traps: every defect becomes a WireError the caller can log and answer.
public struct WireCodec: Sendable {
    /// The protocol version this build speaks; peers with another version are refused.
    public static let protocolVersion: UInt32 = 1

    public var limits: WireLimits

    public init(limits: WireLimits = .default) {
        self.limits = limits
    }

    // MARK: Encoding

    /// Frames for a DEALER socket: envelope then raw frames. Sets version and raw_frame_count.
    public func encode(_ message: WireMessage) throws(WireError) -> [Data] {
        guard message.rawFrames.count <= limits.maxRawFrames else {
            throw .tooManyFrames(count: message.rawFrames.count + 1, limit: limits.maxRawFrames + 1)
        }
        var envelope = message.envelope
        envelope.version = Self.protocolVersion
        envelope.rawFrameCount = UInt32(message.rawFrames.count)
        guard envelope.payload != nil else { throw .missingPayload }
        let bytes: Data
        do { bytes = try envelope.serializedData() } catch {
            throw .malformedEnvelope(reason: "cannot serialize: \(error)")
        }
        guard bytes.count <= limits.maxEnvelopeBytes else {
            throw .frameTooLarge(index: 0, size: bytes.count, limit: limits.maxEnvelopeBytes)
        }
        for (index, frame) in message.rawFrames.enumerated() where frame.count > limits.maxFrameBytes {
            throw .frameTooLarge(index: index + 1, size: frame.count, limit: limits.maxFrameBytes)
        }
        return [bytes] + message.rawFrames
    }

    /// Frames for a ROUTER socket: the peer's routing id first.
    public func encode(_ message: WireMessage, to peer: Data) throws(WireError) -> [Data] {
        guard (1...255).contains(peer.count) else { throw .invalidRoutingId(size: peer.count) }
        return [peer] + (try encode(message))
    }

    // MARK: Decoding

    /// Decodes frames received on a DEALER socket.
    public func decode(_ frames: [Data]) throws(WireError) -> WireMessage {
        guard let first = frames.first else { throw .noFrames }
        guard frames.count <= limits.maxRawFrames + 1 else {
            throw .tooManyFrames(count: frames.count, limit: limits.maxRawFrames + 1)
        }
        guard !first.isEmpty else { throw .emptyEnvelope }
        guard first.count <= limits.maxEnvelopeBytes else {
            throw .frameTooLarge(index: 0, size: first.count, limit: limits.maxEnvelopeBytes)
        }
        for index in frames.indices.dropFirst() where frames[index].count > limits.maxFrameBytes {
            throw .frameTooLarge(index: index, size: frames[index].count, limit: limits.maxFrameBytes)
        }
        let envelope = try parseEnvelope(first)
        let raw = Array(frames.dropFirst())
        guard envelope.rawFrameCount == raw.count else {
            throw .rawFrameCountMismatch(declared: envelope.rawFrameCount, received: raw.count)
        }
        let message = WireMessage(envelope: envelope, rawFrames: raw)
        try WireValidation.validate(message)
        return message
    }

    /// Decodes frames received on a ROUTER socket (routing id first).
    public func decodeRouted(_ frames: [Data]) throws(WireError) -> RoutedWireMessage {
        guard let peer = frames.first else { throw .noFrames }
        guard (1...255).contains(peer.count) else { throw .invalidRoutingId(size: peer.count) }
        return RoutedWireMessage(peer: peer, message: try decode(Array(frames.dropFirst())))
    }

    private func parseEnvelope(_ bytes: Data) throws(WireError) -> WireEnvelope {
        var options = BinaryDecodingOptions()
        // Unknown fields are dropped rather than kept: garbage that happens to parse should not be stored.
        options.discardUnknownFields = true
        options.messageDepthLimit = 16
        let envelope: WireEnvelope
        do {
            envelope = try WireEnvelope(serializedBytes: bytes, options: options)
        } catch {
            throw .malformedEnvelope(reason: String(describing: error))
        }
        guard envelope.version == Self.protocolVersion else {
            throw .unsupportedVersion(received: envelope.version, supported: Self.protocolVersion)
        }
        guard envelope.payload != nil else { throw .missingPayload }
        return envelope
    }
}
