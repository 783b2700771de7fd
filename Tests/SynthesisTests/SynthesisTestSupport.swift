import Foundation
import GuardData
import LLMStandIn
import Synthesis
import TestHelpers
import XCTest

/// Shared pieces of the synthesis tests: the bundled policies, a client with short back-off, output readers.
enum SynthesisTestSupport {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func policy(_ id: String) throws -> Policy {
        try PolicyParser.load(path: packageRoot.appendingPathComponent("policies/\(id).yaml").path)
    }

    /// A client of `standIn` whose back-off is short (tests wait on Retry-After only where they check it).
    static func client(_ standIn: LLMStandIn, maxRetries: Int = 6, timeout: Double = 20, connections: Int = 4, apiKey: String? = nil) -> ChatCompletionsClient {
        ChatCompletionsClient(settings: EndpointSettings(endpoint: standIn.endpoint, apiKey: apiKey, requestTimeout: timeout,
                                                         retry: RetryPolicy(maxRetries: maxRetries, baseDelay: 0.01, maxDelay: 0.05),
                                                         connections: connections))
    }

    static func samples(_ path: String) throws -> [Sample] {
        var out: [Sample] = []
        try SampleReader(path: path, skipInvalid: false).forEachSample { out.append($0) }
        return out
    }

    /// Fails when a (policy, label, normalised prompt) occurs twice.
    static func assertNoDuplicates(_ samples: [Sample], file: StaticString = #filePath, line: UInt = #line) {
        var seen = ExactDeduplicator()
        for s in samples where !seen.insert(policy: s.policy, label: s.label, prompt: s.prompt) {
            XCTFail("duplicate sample: \(s.policy)/\(s.label.rawValue): \(s.prompt)", file: file, line: line)
        }
    }

    static func counts(_ samples: [Sample]) -> [String: Int] {
        samples.reduce(into: [:]) { $0["\($1.policy)/\($1.label.rawValue)", default: 0] += 1 }
    }
}

extension XCTestCase {
    /// A stand-in server stopped when the test ends, however it ends.
    func startStandIn(_ behaviour: StandInBehaviour = StandInBehaviour()) async throws -> LLMStandIn {
        let standIn = try await LLMStandIn.start(behaviour)
        addTeardownBlock { await standIn.stop() }
        return standIn
    }

    /// A client of `standIn` shut down when the test ends (async-http-client insists on it).
    func makeClient(_ standIn: LLMStandIn, maxRetries: Int = 6, timeout: Double = 20, connections: Int = 4, apiKey: String? = nil) -> ChatCompletionsClient {
        let client = SynthesisTestSupport.client(standIn, maxRetries: maxRetries, timeout: timeout, connections: connections, apiKey: apiKey)
        addTeardownBlock { try? await client.shutdown() }
        return client
    }
}
