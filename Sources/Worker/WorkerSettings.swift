import Cluster

/// Settings of one worker process.
struct WorkerSettings: Sendable {
    var endpoint: String
    var workerID: String
    var slots: Int
    var cacheDirectory: String
    var curve: CurveKeyPair?
    var serverKey: CurveKey?
    /// Timing until the coordinator's RegisterAck supplies its own.
    var heartbeat: HeartbeatSettings
    var limits: WireLimits
    /// Chunk requests in flight per blob download.
    var downloadWindow = 4
    var blobChunkBytes: UInt64 = 1 << 20
    /// Address the Gloo TCP device binds to for gradient all-reduce (`--data-addr`).
    var dataAddress = "127.0.0.1"
    /// `--step-delay-ms` (hidden): a pause after every training step, for tests and demos.
    var stepDelaySeconds = 0.0
}
