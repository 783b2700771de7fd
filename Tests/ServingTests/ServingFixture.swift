import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GuardData
import Guards
import Logging
import Serving
import TestHelpers
import XCTest

/// Tiny guards saved to disk and a server on a free loopback port, spoken to over real HTTP.
enum ServingFixture {
    /// A prompt-format guard for policy `policy` built on the tiny encoder (the head as transformers initialises it).
    static func promptGuard(_ policy: String, seed: UInt64, in root: URL) throws -> URL {
        let meta = GuardMetadata(policy: policy, instruction: "", inputFormat: .prompt, head: .mean, maxLength: 32)
        let dir = root.appendingPathComponent(policy + "-guard")
        try GuardModel.fromBase(try TestSupport.tinyBase(in: root.appendingPathComponent("base-\(policy)")), metadata: meta, seed: seed).save(to: dir)
        return dir
    }

    /// An instruction-format guard with no stored instruction: a MultiTaskGuard, served with `--policy` texts.
    static func multiTaskGuard(in root: URL) throws -> URL {
        let meta = GuardMetadata(policy: "multi", instruction: "", inputFormat: .instruction, head: .mean, maxLength: 48)
        let dir = root.appendingPathComponent("multi-guard")
        try GuardModel.fromBase(try TestSupport.tinyBase(in: root.appendingPathComponent("base-multi")), metadata: meta, seed: 7).save(to: dir)
        return dir
    }

    /// A running server and its port; `stop()` shuts it down gracefully and waits for `run()` to return.
    struct Running {
        let server: GuardServer
        let port: Int
        let task: Task<Void, any Error>
        func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }
        func stop() async throws {
            await server.shutdown()
            try await task.value
        }
    }

    static func start(_ catalog: GuardCatalog, _ options: ServeOptions = ServeOptions(port: 0)) async throws -> Running {
        var options = options
        options.host = "127.0.0.1"; options.port = 0
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = GuardServer(catalog: catalog, options: options, logger: Logger(label: "serving-test"), signals: []) { port in
            continuation.yield(port)
        }
        let task = Task { try await server.run() }
        var it = ports.makeAsyncIterator()
        guard let port = await it.next() else { throw TestSupport.unavailable("the server did not start") }
        return Running(server: server, port: port, task: task)
    }

    /// Many connections per host: concurrent requests must reach the server together (the default is 6).
    nonisolated(unsafe) static let session: URLSession = {
        let config = URLSessionConfiguration.ephemeral
        config.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: config)
    }()

    /// A real HTTP exchange: status and body.
    static func request(_ url: URL, method: String = "GET", body: Data? = nil) async throws -> (status: Int, body: Data) {
        var req = URLRequest(url: url)
        req.httpMethod = method
        req.httpBody = body
        req.timeoutInterval = 30
        if body != nil { req.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        return try await withCheckedThrowingContinuation { cont in
            session.dataTask(with: req) { data, response, error in
                if let error { cont.resume(throwing: error); return }
                cont.resume(returning: ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()))
            }.resume()
        }
    }

    static func post(_ url: URL, json: Any) async throws -> (status: Int, object: Any) {
        let (status, data) = try await request(url, method: "POST", body: try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed]))
        return (status, try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
    }

    /// Posts every body at once (one connection each); the statuses in the order given.
    @Sendable static func postConcurrently(_ url: URL, _ bodies: [[String: String]]) async throws -> [Int] {
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for (i, body) in bodies.enumerated() {
                group.addTask { (i, try await post(url, json: body).status) }
            }
            var statuses = [Int](repeating: 0, count: bodies.count)
            for try await (i, status) in group { statuses[i] = status }
            return statuses
        }
    }

    /// The `param` of an error response.
    static func errorParam(_ object: Any) -> String? {
        ((object as? [String: Any])?["error"] as? [String: Any])?["param"] as? String
    }

    /// A sample's value in Prometheus text: the line starting with `series` (name and labels).
    static func sample(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }
}
