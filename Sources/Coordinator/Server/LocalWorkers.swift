import Cluster
import Foundation
import Logging

/// `serve --local-workers N`: worker processes on this machine, started once. They are not restarted by the
/// coordinator; like remote workers they reconnect by themselves if the coordinator restarts.
final class LocalWorkers {
    private var processes: [Process] = []
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    /// The `worker` executable next to this coordinator executable.
    static func workerExecutable() -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return ((me as NSString).deletingLastPathComponent as NSString).appendingPathComponent("worker")
    }

    func start(count: Int, slots: Int, endpoint: String, config: ClusterConfig) throws {
        guard count > 0 else { return }
        let executable = Self.workerExecutable()
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw CurveError.file(path: executable, reason: "worker executable not found next to the coordinator")
        }
        var curveArguments: [String] = []
        if let secret = config.coordinatorSecretKey {
            // Local workers authenticate with the coordinator's own key pair (always allowed).
            let keys = try CurveKeyPair.load(secretKeyFile: secret)
            let publicFile = config.databasePath + ".coordinator.key"
            try (keys.publicKey.z85 + "\n").write(toFile: publicFile, atomically: true, encoding: .utf8)
            curveArguments = ["--curve-server-key", publicFile, "--curve-secret-key", secret]
        }
        let host = ProcessInfo.processInfo.hostName
        // N local workers share this machine: each slot gets cores / (N x slots) threads (at least 1), so four
        // workers on two cores time-share instead of running eight BLAS threads on two cores.
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / max(count * slots, 1))
        for index in 0..<count {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["--coordinator", endpoint, "--slots", String(slots), "--threads", String(threads),
                                 "--cache", "\(config.localWorkerCache)-\(index)",
                                 "--id", "\(host)-local-\(index)-\(getpid())"] + curveArguments
            try process.run()
            processes.append(process)
            logger.info("started local worker \(index) (pid \(process.processIdentifier))")
        }
    }

    /// Asks every local worker to stop (SIGTERM: they say goodbye) and waits briefly for them.
    func terminate() {
        for process in processes where process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(3)
        while processes.contains(where: \.isRunning), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
