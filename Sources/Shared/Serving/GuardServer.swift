import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// How `uniguard serve` listens and batches.
public struct ServeOptions: Sendable {
    public var host: String
    public var port: Int
    /// Most model inputs in one batch.
    public var maxBatch: Int
    /// Longest a request waits for others to fill its batch.
    public var maxWait: Duration
    /// When a queued request waits for company.
    public var waitPolicy: BatchWaitPolicy
    public var limits: RequestLimits

    public init(host: String = "127.0.0.1", port: Int = 8080, maxBatch: Int = 32, maxWait: Duration = .milliseconds(2),
                waitPolicy: BatchWaitPolicy = .arrivals, limits: RequestLimits = RequestLimits()) {
        self.host = host; self.port = port; self.maxBatch = maxBatch; self.maxWait = maxWait; self.waitPolicy = waitPolicy
        self.limits = limits
    }
}

/// Whether the server is draining (readiness goes 503 so a load balancer stops sending).
final class ServerState: @unchecked Sendable {
    private let lock = NSLock()
    private var _draining = false
    var draining: Bool { lock.lock(); defer { lock.unlock() }; return _draining }
    func startDraining() { lock.lock(); _draining = true; lock.unlock() }
}

/// `uniguard serve`: the HTTP application over a catalog of guards, run in a service group that shuts down
/// gracefully (readiness off, in-flight requests answered, the inference queue emptied).
public final class GuardServer: Sendable {
    public let metrics: ServingMetrics
    private let batcher: InferenceBatcher
    private let group: ServiceGroup
    private let state = ServerState()
    private let address: String

    /// `onListening` receives the bound port (useful with port 0).
    public init(catalog: GuardCatalog, options: ServeOptions, logger: Logger,
                signals: [UnixSignal] = [.sigterm, .sigint], onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        metrics = ServingMetrics(catalog: catalog)
        address = "\(options.host):\(options.port)"
        batcher = InferenceBatcher(catalog: catalog, maxBatch: options.maxBatch, maxWait: options.maxWait,
                                   waitPolicy: options.waitPolicy, metrics: metrics)
        let router = Router(context: ServingContext.self, options: .autoGenerateHeadEndpoints)
        ServingRoutes(catalog: catalog, batcher: batcher, metrics: metrics, limits: options.limits, state: state).register(on: router)
        let app = Application(router: router,
                              configuration: .init(address: .hostname(options.host, port: options.port), serverName: "uniguard"),
                              onServerRunning: { channel in await onListening(channel.localAddress?.port ?? options.port) },
                              logger: logger)
        // Services stop in reverse order: readiness goes off first, then the HTTP server drains its connections.
        group = ServiceGroup(configuration: .init(services: [.init(service: app), .init(service: DrainNotice(state: state), successTerminationBehavior: .ignore)],
                                                  gracefulShutdownSignals: signals, logger: logger))
    }

    /// Serves until a shutdown signal or `shutdown()`, then drains and returns.
    public func run() async throws {
        batcher.start()
        do { try await group.run() } catch {
            batcher.shutdown()
            if let io = error as? IOError, io.errnoCode == EADDRINUSE {
                throw ServeError("cannot listen on \(address): the address is in use (another server running? choose --port)")
            }
            throw error
        }
        batcher.shutdown()
    }

    /// Begins a graceful shutdown (what SIGTERM does).
    public func shutdown() async { await group.triggerGracefulShutdown() }
}

/// Marks the server as draining when graceful shutdown begins.
struct DrainNotice: Service {
    let state: ServerState
    func run() async throws {
        try? await gracefulShutdown()
        state.startDraining()
    }
}

/// A server that cannot start, with what to change.
public struct ServeError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}
