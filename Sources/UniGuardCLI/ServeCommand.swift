import ArgumentParser
import CommandLineSupport
import Dispatch
import Foundation
import GuardData
import Logging
import Runtime
import Serving

/// `uniguard serve --model DIR...`: an HTTP server answering OpenAI-style moderation and classify requests.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve",
        abstract: "Serve guards over HTTP: POST /v1/moderations (OpenAI shape), POST /v1/classify, GET /v1/models, /healthz, /readyz, /metrics.",
        discussion: "Concurrent requests are batched (up to --max-batch inputs or --max-wait-ms) on one inference thread. SIGTERM/SIGINT drain in-flight requests before exit.")

    @Option(name: .customLong("model"), parsing: .upToNextOption, help: "Classifier model directories (one or more); each serves its policy, named by its directory.")
    var models: [String] = []
    @Option(name: .customLong("policy"), help: "Policy id or YAML file an instruction-format model (MultiTaskGuard, merged model) should also serve; repeatable.")
    var policies: [String] = []
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "TCP port (0: any free port, printed at start).") var port = 8080
    @Option(help: "Most model inputs (texts × policies) scored in one batch.") var maxBatch = 32
    @Option(help: "Longest a request waits for others to join its batch, in milliseconds (0: no wait).") var maxWaitMs = 2
    @Option(help: "When a batch that is not full waits: arrivals (only while requests that arrived are still being read; a lone request runs at once) or always.")
    var batchWait: BatchWaitPolicy = .arrivals
    @Option(help: "Largest request body in bytes.") var maxBodyBytes = 1 << 20
    @Option(help: "Most inputs in one request.") var maxInputs = 256
    @Option(help: "Longest input in UTF-8 bytes.") var maxInputBytes = 32 << 10
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var logging: LogLevelOption

    func validate() throws {
        try OptionCheck.require(!models.isEmpty, "--model: give at least one model directory")
        try OptionCheck.within(0...65535, port, "--port")
        try OptionCheck.within(1...4096, maxBatch, "--max-batch")
        try OptionCheck.within(0...10_000, maxWaitMs, "--max-wait-ms")
        try OptionCheck.atLeast(1, maxBodyBytes, "--max-body-bytes")
        try OptionCheck.atLeast(1, maxInputs, "--max-inputs")
        try OptionCheck.atLeast(1, maxInputBytes, "--max-input-bytes")
    }

    func run() throws {
        logging.bootstrap()
        let logger = Logger(label: "uniguard.serve")
        threads.apply()
        let extra = try policies.map(Self.resolvePolicy)
        let catalog = try GuardCatalog.load(directories: models.map { URL(fileURLWithPath: $0) }, extra: extra)
        for m in catalog.models { m.guardModel.onInstructionShortened = { warn($0) } }
        let options = ServeOptions(host: host, port: port, maxBatch: maxBatch, maxWait: .milliseconds(maxWaitMs), waitPolicy: batchWait,
                                   limits: RequestLimits(maxBodyBytes: maxBodyBytes, maxInputs: maxInputs, maxInputBytes: maxInputBytes))
        let host = self.host, summary = catalog.models.map { "\($0.name) [\($0.policyIDs.joined(separator: ", "))]" }.joined(separator: "; ")
        let server = GuardServer(catalog: catalog, options: options, logger: logger) { port in
            logger.info("listening on http://\(host):\(port)", metadata: ["models": "\(summary)"])
        }
        // Graceful shutdown is the service group's: SIGTERM/SIGINT drain requests instead of the CLI's exit-on-signal.
        InterruptCleanup.uninstall()
        // run() is synchronous (the shared entry point); the server runs on the concurrency pool while main waits.
        let done = DispatchSemaphore(value: 0)
        let outcome = ServeOutcome()
        Task.detached {
            do { try await server.run() } catch { outcome.fail(error) }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
        logger.info("stopped after draining in-flight requests")
    }

    /// `--policy ID|FILE.yaml` → the policy's id and instruction text.
    static func resolvePolicy(_ value: String) throws -> ExtraPolicy {
        if value.hasSuffix(".yaml") || value.hasSuffix(".yml") || FileManager.default.fileExists(atPath: value) {
            let p = try PolicyParser.load(path: value)
            return ExtraPolicy(id: p.id, instruction: p.instructionText)
        }
        guard let pack = PolicyPack.locateBundled() else {
            throw CommandFailure("--policy '\(value)' is a policy id, and the bundled policies/ directory is not found from here; give the policy's YAML file instead")
        }
        let p = try PolicyPack.load(directory: pack).policy(value)
        return ExtraPolicy(id: p.id, instruction: p.instructionText)
    }
}

/// The server's failure, handed from its task to the waiting main thread.
final class ServeOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var _error: Error?
    var error: Error? { lock.lock(); defer { lock.unlock() }; return _error }
    func fail(_ e: Error) { lock.lock(); _error = e; lock.unlock() }
}

extension BatchWaitPolicy: ExpressibleByArgument {}
