import ArgumentParser
import Cluster
import CommandLineSupport
import Foundation

/// How client commands find the coordinator: `--endpoint`, or the config (default ./cluster.conf).
struct ClientOptions: ParsableArguments {
    @Option(help: "Cluster config (TOML); its coordinator endpoint and keys are used.")
    var config: String?

    @Option(help: "Coordinator endpoint, e.g. tcp://host:5555 (overrides the config).")
    var endpoint: String?

    @Option(help: "Coordinator public key file, when the config's coordinator secret key is not readable here.")
    var serverKey: String?

    @Option(help: "How long to wait for an answer, in milliseconds (default: [client] timeout_ms).")
    var timeoutMs: Int?

    func validate() throws {
        try OptionCheck.milliseconds(timeoutMs, "--timeout-ms")
    }

    /// A client whose answer timeout is at least `minimumTimeoutMs` unless `--timeout-ms` says otherwise.
    func connect(minimumTimeoutMs: Int = 0) throws -> CoordinatorClient {
        let path = config ?? "cluster.conf"
        var cluster = ClusterConfig()
        if FileManager.default.fileExists(atPath: path) {
            cluster = try ClusterConfig.load(path: path)
        } else if config != nil || endpoint == nil {
            throw ClientError(description: "\(path): no such config; pass --config FILE or --endpoint tcp://HOST:PORT")
        }
        var curve: (CurveKeyPair, CurveKey)?
        if cluster.curveEnabled {
            let ownPath = cluster.clientSecretKey ?? cluster.coordinatorSecretKey!
            let keys = try CurveKeyPair.load(secretKeyFile: ownPath)
            let server: CurveKey
            if let serverKey {
                server = try CurveKey.load(publicKeyFile: serverKey)
            } else if let coordinator = try? CurveKeyPair.load(secretKeyFile: cluster.coordinatorSecretKey!) {
                server = coordinator.publicKey
            } else {
                throw ClientError(description: "CURVE is on but the coordinator's key is not readable here; pass --server-key FILE")
            }
            curve = (keys, server)
        }
        return try CoordinatorClient(endpoint: endpoint ?? cluster.clientEndpoint,
                                     timeoutMs: timeoutMs ?? max(cluster.clientTimeoutMs, minimumTimeoutMs), curve: curve,
                                     limits: cluster.wireLimits)
    }
}

/// Unbuffered standard output, so lines reach pipes (scripts, tests) at once.
enum Console {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
