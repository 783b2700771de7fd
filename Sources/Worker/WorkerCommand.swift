import ArgumentParser
import Cluster
import CommandLineSupport
import Foundation
import Logging
import Runtime

/// `worker`: runs training steps and merge-arm evaluations for a coordinator.
public struct WorkerCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "UniGuard cluster worker: registers with a coordinator and runs tasks in its slots.",
        version: UniGuardVersion.description
    )

    @Option(help: "Coordinator endpoint, e.g. tcp://host:5555.")
    var coordinator: String

    @Option(help: "Tasks run at once (threads).")
    var slots = 1

    @OptionGroup var threads: ThreadOptions

    @Option(help: "Blob cache directory (models and data fetched by content hash).")
    var cache = "var/worker-cache"

    @Option(help: "Worker id (default: HOST-PID); also its ZeroMQ routing id.")
    var id: String?

    @Option(help: "CURVE: the coordinator's public key file.")
    var curveServerKey: String?

    @Option(help: "CURVE: this worker's secret key file (mode 0600; its public key must be allowed by the coordinator).")
    var curveSecretKey: String?

    @Option(help: "Heartbeat interval until the coordinator sends its own, in ms.")
    var heartbeatIntervalMs = 1000

    @Option(help: "Missed heartbeats before the coordinator is considered gone.")
    var liveness = 3

    @Option(help: "First reconnect delay in ms (doubles up to --reconnect-max-ms).")
    var reconnectInitialMs = 1000

    @Option(help: "Longest reconnect delay in ms.")
    var reconnectMaxMs = 32000

    @Option(help: "Bytes asked per blob chunk.")
    var chunkBytes = 1 << 20

    @Option(help: "Largest frame accepted, in bytes.")
    var maxFrameBytes = 64 << 20

    @Option(help: ArgumentHelp("Address the gradient all-reduce (Gloo TCP) binds to (default: the local address of the interface that reaches the coordinator).",
                               discussion: "Gradient traffic is neither authenticated nor encrypted, even with CURVE on the control channel: name an address on a trusted network."))
    var dataAddr: String?

    @Option(help: .hidden) var stepDelayMs = 0

    @OptionGroup var logging: LogLevelOption

    public init() {}

    /// Runtime failures (an unreadable key file, a bad endpoint) keep their `error: <message>` wording.
    public static func main() { runExecutable(failurePrefix: "error") }

    public func validate() throws {
        try OptionCheck.within(WorkerSlots.allowed, slots, "--slots")
        try OptionCheck.require((curveServerKey == nil) == (curveSecretKey == nil), "CURVE needs both --curve-server-key and --curve-secret-key")
        if let id { try OptionCheck.require(!id.isEmpty && id.utf8.count <= 200, "--id must be 1...200 bytes") }
        if let dataAddr {
            var probe = in_addr()
            try OptionCheck.require(inet_pton(AF_INET, dataAddr, &probe) == 1,
                                    "--data-addr must be an IPv4 address of this host (got '\(dataAddr)')")
        }
        try OptionCheck.within(0...60_000, stepDelayMs, "--step-delay-ms")
        try OptionCheck.milliseconds(heartbeatIntervalMs, "--heartbeat-interval-ms")
        try OptionCheck.within(1...1_000, liveness, "--liveness")
        try OptionCheck.milliseconds(reconnectInitialMs, "--reconnect-initial-ms")
        try OptionCheck.milliseconds(reconnectMaxMs, "--reconnect-max-ms", minimum: reconnectInitialMs)
        try OptionCheck.within(1...Int(Int32.max), maxFrameBytes, "--max-frame-bytes")
        // Below 1 KiB a chunk is raised to 1 KiB; a chunk must fit in a frame.
        try OptionCheck.within(1...max(1, maxFrameBytes), chunkBytes, "--chunk-bytes")
    }

    public func run() throws {
        logging.bootstrap()
        // Slots run side by side; each gets its share of the cores so they do not oversubscribe them.
        threads.apply(default: ProcessInfo.processInfo.activeProcessorCount / slots)
        let workerID = id ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let logger = Logger(label: "worker.\(workerID)")
        var settings = WorkerSettings(
            endpoint: coordinator, workerID: workerID, slots: slots, cacheDirectory: cache,
            heartbeat: HeartbeatSettings(interval: .milliseconds(heartbeatIntervalMs), liveness: liveness,
                                         reconnectInitial: .milliseconds(reconnectInitialMs),
                                         reconnectMax: .milliseconds(reconnectMaxMs)),
            limits: WireLimits(maxFrameBytes: maxFrameBytes))
        settings.blobChunkBytes = UInt64(max(chunkBytes, 1024))
        settings.dataAddress = try dataAddr ?? DataAddress.reaching(endpoint: coordinator)
        settings.stepDelaySeconds = Double(stepDelayMs) / 1000
        if let curveServerKey, let curveSecretKey {
            settings.serverKey = try CurveKey.load(publicKeyFile: curveServerKey)
            settings.curve = try CurveKeyPair.load(secretKeyFile: curveSecretKey)
        }
        let stop = Guarded(false)
        let trap = SignalTrap(stop: stop)
        let daemon = try WorkerDaemon(settings: settings, evaluators: .standard, logger: logger, stopRequested: stop)
        logger.info("worker \(workerID): \(slots) slots, cache \(cache), coordinator \(coordinator)\(settings.curve != nil ? " (CURVE)" : ""), gradients on \(settings.dataAddress) (unencrypted: trusted network only)")
        daemon.run()
        withExtendedLifetime(trap) {}
        if daemon.refusal != nil { throw ExitCode(1) }
    }
}
