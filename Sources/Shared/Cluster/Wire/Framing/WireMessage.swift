import Foundation

/// The protocol's envelope type, under a shorter name.
public typealias WireEnvelope = Uniguard_V1_Envelope

/// One protocol message: an envelope plus the raw frames (tensors, blob chunks) that follow it.
public struct WireMessage: Sendable, Equatable {
    public var envelope: WireEnvelope
    public var rawFrames: [Data]

    public init(envelope: WireEnvelope, rawFrames: [Data] = []) {
        self.envelope = envelope
        self.rawFrames = rawFrames
    }

    /// Builds a message for the current protocol version; raw_frame_count is filled in by the encoder.
    public init(_ payload: WireEnvelope.OneOf_Payload, messageId: UInt64, jobId: String = "",
                replyTo: UInt64 = 0, rawFrames: [Data] = []) {
        var envelope = WireEnvelope()
        envelope.version = WireCodec.protocolVersion
        envelope.messageID = messageId
        envelope.jobID = jobId
        envelope.replyTo = replyTo
        envelope.payload = payload
        self.init(envelope: envelope, rawFrames: rawFrames)
    }

    /// An Error reply to `request` (message id 0 when the request could not be decoded).
    public static func error(_ code: Uniguard_V1_ErrorCode, _ message: String, messageId: UInt64,
                             replyTo: UInt64 = 0, jobId: String = "") -> WireMessage {
        var error = Uniguard_V1_Error()
        error.code = code
        error.message = message
        return WireMessage(.error(error), messageId: messageId, jobId: jobId, replyTo: replyTo)
    }

    /// The payload, or nil for an envelope without one.
    public var payload: WireEnvelope.OneOf_Payload? { envelope.payload }
}

/// A message received on a ROUTER socket, tagged with the sender's routing id.
public struct RoutedWireMessage: Sendable, Equatable {
    public var peer: Data
    public var message: WireMessage

    public init(peer: Data, message: WireMessage) {
        self.peer = peer
        self.message = message
    }
}
