import Foundation

/// The cluster configuration (cluster.conf): endpoints, heartbeats, leases, storage, CURVE keys, limits.
///
/// Every key is documented in the example cluster.conf at the repository root. Relative paths are resolved
/// against the directory of the config file, so a config works from any working directory.
public struct ClusterConfig: Sendable, Equatable {
    /// The file this was read from (nil for built-in defaults).
    public var sourcePath: String?

    // [coordinator]
    /// Where the coordinator's ROUTER socket binds, e.g. "tcp://*:5555".
    public var endpoint = "tcp://*:5555"
    /// Where clients and local workers connect; nil: `endpoint` with a wildcard host replaced by 127.0.0.1.
    public var connectEndpoint: String?

    // [heartbeat]
    public var heartbeatIntervalMs = 1000
    public var liveness = 3
    public var reconnectInitialMs = 1000
    public var reconnectMaxMs = 32000

    // [leases]
    /// How long a worker may hold a task before the coordinator hands it to another worker.
    public var leaseTimeoutMs = 600_000

    // [storage]
    public var databasePath = "var/coordinator.sqlite"
    public var exportDirectory = "var/exports"
    /// Blob cache directory prefix for `--local-workers` (worker i uses "<prefix>-i").
    public var localWorkerCache = "var/worker-cache"
    /// Put coordinator-side file paths into model references, for workers that share a filesystem.
    public var advertiseSharedPaths = false

    // [curve]
    public var coordinatorSecretKey: String?
    /// Public key files, or directories whose `*.key` files are public keys, of workers allowed to connect.
    public var allowedWorkerKeys: [String] = []
    /// Secret key clients (submit/status/cancel) use; nil: the coordinator's own key pair.
    public var clientSecretKey: String?

    // [limits]
    public var maxFrameBytes = 64 << 20
    public var maxEnvelopeBytes = 4 << 20
    /// Messages queued per peer before sends fail instead of growing memory.
    public var sendQueue = 1000
    public var blobChunkBytes = 1 << 20

    // [client]
    public var clientTimeoutMs = 5000

    // [metrics]
    /// Where the coordinator serves `GET /metrics` (Prometheus text format); nil: no metrics endpoint.
    public var metricsListen: ListenAddress?

    public init() {}

    /// Whether CURVE security is on (the coordinator has a secret key).
    public var curveEnabled: Bool { coordinatorSecretKey != nil }

    public var heartbeatSettings: HeartbeatSettings {
        HeartbeatSettings(interval: .milliseconds(heartbeatIntervalMs), liveness: liveness,
                          reconnectInitial: .milliseconds(reconnectInitialMs),
                          reconnectMax: .milliseconds(reconnectMaxMs))
    }

    public var wireLimits: WireLimits {
        WireLimits(maxFrameBytes: maxFrameBytes, maxEnvelopeBytes: maxEnvelopeBytes)
    }

    /// The endpoint clients connect to.
    public var clientEndpoint: String { connectEndpoint ?? Self.connectable(endpoint) }

    /// A bind endpoint made connectable: `tcp://*:5555` and `tcp://0.0.0.0:5555` become `tcp://127.0.0.1:5555`.
    public static func connectable(_ bindEndpoint: String) -> String {
        for wildcard in ["tcp://*:", "tcp://0.0.0.0:"] where bindEndpoint.hasPrefix(wildcard) {
            return "tcp://127.0.0.1:" + bindEndpoint.dropFirst(wildcard.count)
        }
        return bindEndpoint
    }

    /// Reads and validates a config file.
    public static func load(path: String) throws -> ClusterConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ClusterConfigError.unreadable(path: path, reason: error.localizedDescription)
        }
        return try parse(text, file: path)
    }

    /// Parses config text; `file` names it in errors and anchors relative paths.
    public static func parse(_ text: String, file: String) throws -> ClusterConfig {
        let document = try TOMLParser.parse(text, file: file)
        var reader = ClusterConfigReader(document)
        var config = try reader.read()
        config.sourcePath = file
        config.resolvePaths(relativeTo: (file as NSString).deletingLastPathComponent)
        return config
    }

    /// Makes relative paths absolute against `directory` (the config file's directory).
    mutating func resolvePaths(relativeTo directory: String) {
        func resolve(_ path: String) -> String {
            if path.hasPrefix("/") || directory.isEmpty { return path }
            return (directory as NSString).appendingPathComponent(path)
        }
        databasePath = resolve(databasePath)
        exportDirectory = resolve(exportDirectory)
        localWorkerCache = resolve(localWorkerCache)
        coordinatorSecretKey = coordinatorSecretKey.map(resolve)
        clientSecretKey = clientSecretKey.map(resolve)
        allowedWorkerKeys = allowedWorkerKeys.map(resolve)
    }
}

/// Why cluster.conf could not be used.
public enum ClusterConfigError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot read cluster config: \(reason)"
        }
    }
}
