import ArgumentParser
import Cluster
import EncoderModel
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

    @Option(help: "BLAS and kernel threads per slot (default: the machine's cores divided by --slots, at least 1).")
    var threads: Int?

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

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    public init() {}

    public static func main() {
        BLASRuntime.ensureFastKernels()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    public func validate() throws {
        guard (1...256).contains(slots) else { throw ValidationError("--slots must be in 1...256") }
        guard (curveServerKey == nil) == (curveSecretKey == nil) else {
            throw ValidationError("CURVE needs both --curve-server-key and --curve-secret-key")
        }
        if let id, id.isEmpty || id.utf8.count > 200 { throw ValidationError("--id must be 1...200 bytes") }
    }

    public func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        // Slots run side by side; each gets its share of the cores so they do not oversubscribe them.
        let perSlot = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / max(slots, 1))
        BLASRuntime.setThreads(perSlot)
        Parallel.setThreads(perSlot)
        let workerID = id ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let logger = Logger(label: "worker.\(workerID)")
        var settings = WorkerSettings(
            endpoint: coordinator, workerID: workerID, slots: slots, cacheDirectory: cache,
            heartbeat: HeartbeatSettings(interval: .milliseconds(heartbeatIntervalMs), liveness: liveness,
                                         reconnectInitial: .milliseconds(reconnectInitialMs),
                                         reconnectMax: .milliseconds(reconnectMaxMs)),
            limits: WireLimits(maxFrameBytes: maxFrameBytes))
        settings.blobChunkBytes = UInt64(max(chunkBytes, 1024))
        if let curveServerKey, let curveSecretKey {
            do {
                settings.serverKey = try CurveKey.load(publicKeyFile: curveServerKey)
                settings.curve = try CurveKeyPair.load(secretKeyFile: curveSecretKey)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        let stop = Guarded(false)
        let trap = SignalTrap(stop: stop)
        let daemon = try WorkerDaemon(settings: settings, evaluators: .standard, logger: logger, stopRequested: stop)
        logger.info("worker \(workerID): \(slots) slots, cache \(cache), coordinator \(coordinator)\(settings.curve != nil ? " (CURVE)" : "")")
        daemon.run()
        withExtendedLifetime(trap) {}
    }
}
