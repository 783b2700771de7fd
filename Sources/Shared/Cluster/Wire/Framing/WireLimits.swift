/// Size limits the codec enforces; the frame limit comes from cluster.conf.
public struct WireLimits: Sendable, Equatable {
    /// Largest frame (envelope or raw) in bytes. Also set as ZMQ_MAXMSGSIZE so libzmq drops offenders early.
    public var maxFrameBytes: Int
    /// Largest envelope frame in bytes: envelopes are control data, big payloads go in raw frames.
    public var maxEnvelopeBytes: Int
    /// Most raw frames after one envelope.
    public var maxRawFrames: Int

    public init(maxFrameBytes: Int = 64 << 20, maxEnvelopeBytes: Int = 4 << 20, maxRawFrames: Int = 256) {
        self.maxFrameBytes = maxFrameBytes
        self.maxEnvelopeBytes = min(maxEnvelopeBytes, maxFrameBytes)
        self.maxRawFrames = maxRawFrames
    }

    public static let `default` = WireLimits()

    /// A Gloo rendezvous key and value: addresses are a few hundred bytes, so anything near these is abuse.
    public static let maxRendezvousKeyBytes = 512
    public static let maxRendezvousValueBytes = 64 << 10
}
