import ArgumentParser
import Cluster
import CommandLineSupport
import Foundation
import Logging
import Runtime

/// `coordinator serve`: runs the control plane until SIGINT/SIGTERM.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the coordinator: ROUTER socket, SQLite state, scheduling.")

    @Option(help: "Cluster config (TOML).")
    var config = "cluster.conf"

    @Option(help: "Start this many worker processes on this machine (found next to this executable).")
    var localWorkers = 0

    @Option(help: "Slots of each local worker.")
    var localWorkerSlots = 1

    @Option(help: "Bind here instead of [coordinator] endpoint (e.g. to rebind a port chosen earlier).")
    var bind: String?

    @OptionGroup var logging: LogLevelOption

    /// Processes on one machine; more is a typo, not a plan.
    static let mostLocalWorkers = 256

    func validate() throws {
        try OptionCheck.within(0...Self.mostLocalWorkers, localWorkers, "--local-workers")
        try OptionCheck.within(WorkerSlots.allowed, localWorkerSlots, "--local-worker-slots")
    }

    func run() throws {
        logging.bootstrap()
        let logger = Logger(label: "coordinator")
        let cluster = try ClusterConfig.load(path: config)
        let stop = Guarded(false)
        let signals = SignalTrap(stop: stop)
        let server: CoordinatorServer
        let endpoint: String
        do {
            server = try CoordinatorServer(config: cluster, logger: logger, stopRequested: stop)
            endpoint = try server.start(bindOverride: bind)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        // The resolved endpoint, for scripts and tests that bind port 0.
        try? (endpoint + "\n").write(toFile: cluster.databasePath + ".endpoint", atomically: true, encoding: .utf8)
        Console.line("coordinator listening on \(endpoint) (state in \(cluster.databasePath))")
        let locals = LocalWorkers(logger: logger)
        do {
            try locals.start(count: localWorkers, slots: localWorkerSlots, endpoint: endpoint, config: cluster)
        } catch {
            logger.error("cannot start local workers: \(error)")
        }
        server.run()
        locals.terminate()
        withExtendedLifetime(signals) {}
        logger.info("coordinator stopped")
    }
}
