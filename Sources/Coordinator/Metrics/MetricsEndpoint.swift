import Cluster
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Prometheus
import Runtime
import ServiceLifecycle

/// The coordinator's `GET /metrics` over HTTP (Hummingbird on one event loop thread of its own), beside the ZeroMQ
/// event loop: a scrape only renders the registry, so it never waits for the loop and the loop never waits for it.
final class MetricsEndpoint {
    private let group: ServiceGroup
    private let eventLoops: MultiThreadedEventLoopGroup
    private let listen: ListenAddress
    /// Signalled when the server listens, or when it stopped without ever listening.
    private let running: DispatchSemaphore
    private let finished = DispatchSemaphore(value: 0)
    /// The bound port once listening (nil before, or after a failure in `failure`).
    private let port: Guarded<Int?>
    private let failure = Guarded<(any Error)?>(nil)

    init(registry: PrometheusCollectorRegistry, listen: ListenAddress, logger: Logger) {
        let running = DispatchSemaphore(value: 0), port = Guarded<Int?>(nil)
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let router = Router(options: .autoGenerateHeadEndpoints)
        router.add(middleware: MetricsMethodCheck())
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        let app = Application(router: router,
                              configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "uniguard-coordinator"),
                              onServerRunning: { channel in
                                  port.value = channel.localAddress?.port ?? listen.port
                                  running.signal()
                              },
                              eventLoopGroupProvider: .shared(eventLoops), logger: logger)
        group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        self.listen = listen
        self.running = running
        self.port = port
        self.eventLoops = eventLoops
    }

    /// Starts listening; returns the bound port, or throws why not (e.g. the address is in use) within `timeout`.
    func start(timeout: Duration = .seconds(20)) throws -> Int {
        let group = self.group, failure = self.failure, running = self.running, finished = self.finished
        Task.detached {
            do { try await group.run() } catch { failure.value = error }
            running.signal()  // wakes `start` if the server never came up
            finished.signal()
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18
        guard running.wait(timeout: .now() + seconds) == .success else {
            throw MetricsEndpointError(listen: listen, reason: "the HTTP server did not start within \(seconds) s")
        }
        if let port = port.value { return port }
        throw MetricsEndpointError(listen: listen, reason: failure.value.map(Self.explain) ?? "the HTTP server stopped")
    }

    /// Stops listening (in-flight scrapes are answered first) and waits a few seconds for it.
    func stop() {
        let group = self.group
        Task.detached { await group.triggerGracefulShutdown() }
        _ = finished.wait(timeout: .now() + 5)
        try? eventLoops.syncShutdownGracefully()
    }

    private static func explain(_ error: any Error) -> String {
        if let io = error as? IOError, io.errnoCode == EADDRINUSE { return "the address is in use (another coordinator or exporter on it?)" }
        if let io = error as? IOError, io.errnoCode == EADDRNOTAVAIL { return "no interface of this machine has that address" }
        if let io = error as? IOError, io.errnoCode == EACCES { return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)" }
        return "\(error)"
    }
}

/// Another method on `/metrics` is a 405 naming the allowed ones (as `uniguard serve` answers), not a 404.
struct MetricsMethodCheck: RouterMiddleware {
    typealias Context = BasicRequestContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path == "/metrics", request.method != .get, request.method != .head else { return try await next(request, context) }
        return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD", .contentType: "text/plain; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: "/metrics answers GET and HEAD, not \(request.method.rawValue)\n")))
    }
}

/// The metrics endpoint could not start: the `[metrics] listen` value and why.
struct MetricsEndpointError: Error, CustomStringConvertible {
    let listen: ListenAddress
    let reason: String
    var description: String { "cannot serve metrics on \(listen) ([metrics] listen in the cluster config): \(reason)" }
}
