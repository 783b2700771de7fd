import Foundation
import LLMStandIn
@testable import Synthesis
import XCTest

/// The HTTP client against the stand-in server: retries and back-off per cause, Retry-After, timeouts,
/// the response-format ladder, refusals that are not retried, and the tally.
final class ChatCompletionsClientTests: XCTestCase {
    static let request = ChatRequest(model: "stand-in", messages: GenerationPrompt.messages(policy: try! SynthesisTestSupport.policy("tax_advice"), label: .unsafe, count: 3, sequence: 0, seed: 42),
                              temperature: 0.9, seed: 42, maxTokens: nil, schema: ReplySchemas.generatedPrompts)

    func generate(_ client: ChatCompletionsClient) async throws -> [GeneratedPrompt] { try await Self.generate(client) }

    static func generate(_ client: ChatCompletionsClient) async throws -> [GeneratedPrompt] {
        try await client.complete(request, purpose: "test") { try GeneratedPrompt.parse($0, requested: 3) }
    }

    func testAWellBehavedServerAnswersInOneRequestWithStructuredOutputAndUsage() async throws {
        let standIn = try await startStandIn()
        let client = makeClient(standIn)
        let prompts = try await generate(client)
        await standIn.stop()
        XCTAssertEqual(prompts.count, 3)
        XCTAssertTrue(prompts.allSatisfy { $0.prompt.hasPrefix("[stand-in unsafe]") && !$0.rationale.isEmpty })
        XCTAssertEqual(standIn.requests.map(\.responseFormat), ["json_schema"])
        let tally = client.tally.snapshot
        XCTAssertEqual(tally.requests, 1)
        XCTAssertEqual(tally.completions, 1)
        XCTAssertGreaterThan(tally.promptTokens, 100, "the server's usage is read")
        XCTAssertGreaterThan(tally.completionTokens, 10)
    }

    func testRateLimitWaitsForRetryAfterThenSucceeds() async throws {
        var behaviour = StandInBehaviour()
        behaviour.schedule = [1: .rateLimited(retryAfter: "1")]
        let standIn = try await startStandIn(behaviour)
        let client = makeClient(standIn)
        _ = try await generate(client)
        await standIn.stop()
        let log = standIn.requests
        XCTAssertEqual(log.map(\.status), [429, 200])
        // The back-off alone would be 0.01 s: the wait is the server's Retry-After.
        XCTAssertGreaterThanOrEqual(log[1].received.timeIntervalSince(log[0].received), 0.95)
        XCTAssertEqual(client.tally.snapshot.rateLimited, 1)
        XCTAssertEqual(client.tally.snapshot.requests, 2)
    }

    func testServerErrorsBrokenBodiesAndTruncatedJSONAreRetriedAndCounted() async throws {
        var behaviour = StandInBehaviour()
        behaviour.schedule = [1: .serverError, 2: .brokenBody, 3: .truncatedJSON, 4: .ignoresSchema]
        let standIn = try await startStandIn(behaviour)
        let client = makeClient(standIn)
        let prompts = try await generate(client)
        await standIn.stop()
        XCTAssertEqual(prompts.count, 3)
        XCTAssertEqual(standIn.requests.map(\.status), [500, 200, 200, 200, 200])
        let tally = client.tally.snapshot
        XCTAssertEqual(tally.serverErrors, 1)
        XCTAssertEqual(tally.malformedReplies, 3, "broken body, cut-off JSON, schema ignored")
        XCTAssertEqual(tally.requests, 5)
        XCTAssertEqual(tally.completions, 1)
    }

    func testASlowReplyTimesOutAndIsAskedAgain() async throws {
        var behaviour = StandInBehaviour()
        behaviour.schedule = [1: .slow(seconds: 3)]
        let standIn = try await startStandIn(behaviour)
        let client = makeClient(standIn, timeout: 0.5)
        let prompts = try await generate(client)
        await standIn.stop()
        XCTAssertEqual(prompts.count, 3)
        XCTAssertEqual(client.tally.snapshot.transportErrors, 1)
        XCTAssertEqual(client.tally.snapshot.requests, 2)
    }

    func testJsonSchemaRejectedFallsBackToJsonObjectForTheRestOfTheRun() async throws {
        var behaviour = StandInBehaviour()
        behaviour.formats = .jsonObjectOnly
        let standIn = try await startStandIn(behaviour)
        let client = makeClient(standIn)
        _ = try await generate(client)
        _ = try await generate(client)
        await standIn.stop()
        XCTAssertEqual(standIn.requests.map(\.responseFormat), ["json_schema", "json_object", "json_object"])
        XCTAssertEqual(standIn.requests.map(\.status), [400, 200, 200])
        XCTAssertEqual(client.formats.level, .jsonObject)
        XCTAssertEqual(client.tally.snapshot.formatFallbacks, 1)
        XCTAssertEqual(client.tally.snapshot.formatRejected, 1)
    }

    func testAPlainTextServerIsParsedFromItsProse() async throws {
        var behaviour = StandInBehaviour()
        behaviour.formats = .textOnly
        let standIn = try await startStandIn(behaviour)
        let client = makeClient(standIn)
        let prompts = try await generate(client)
        await standIn.stop()
        XCTAssertEqual(prompts.count, 3, "JSON found inside a ```json fence in the reply text")
        XCTAssertEqual(standIn.requests.map(\.responseFormat), ["json_schema", "json_object", "none"])
        XCTAssertEqual(client.formats.level, .text)
        XCTAssertEqual(client.tally.snapshot.formatFallbacks, 2)
    }

    func testConcurrentRequestsRefusedAtOneLevelStepDownOnce() async throws {
        var behaviour = StandInBehaviour()
        behaviour.formats = .textOnly
        let standIn = try await startStandIn(behaviour)
        let client = makeClient(standIn)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { try await Self.generate(client).count } }
            for try await count in group { XCTAssertEqual(count, 3) }
        }
        let tally = client.tally.snapshot
        XCTAssertEqual(tally.formatFallbacks, 2, "json_schema → json_object → text, once each")
        XCTAssertEqual(tally.requests, tally.completions + tally.formatRejected)
        XCTAssertGreaterThanOrEqual(tally.formatRejected, 2)
    }

    func testGivesUpAfterMaxRetriesSayingHowToResume() async throws {
        var behaviour = StandInBehaviour()
        behaviour.every = [(1, .serverError)]
        let standIn = try await startStandIn(behaviour)
        let client = makeClient(standIn, maxRetries: 2)
        do {
            _ = try await generate(client)
            XCTFail("expected to give up")
        } catch let error as EndpointError {
            XCTAssertTrue(error.description.contains("gave up after 3 attempts"), error.description)
            XCTAssertTrue(error.description.contains("resume"), error.description)
        }
        await standIn.stop()
        XCTAssertEqual(standIn.requests.count, 3)
    }

    func testRefusedCredentialsAndUnknownModelsAreNotRetried() async throws {
        var behaviour = StandInBehaviour()
        behaviour.apiKey = "sekrit"
        behaviour.model = "served-model"
        let standIn = try await startStandIn(behaviour)
        let noKey = makeClient(standIn)
        do { _ = try await generate(noKey); XCTFail("expected 401") } catch let error as EndpointError {
            XCTAssertTrue(error.description.contains("HTTP 401") && error.description.contains("--api-key-env"), error.description)
        }
        let withKey = makeClient(standIn, apiKey: "sekrit")
        do { _ = try await generate(withKey); XCTFail("expected 404") } catch let error as EndpointError {
            XCTAssertTrue(error.description.contains("HTTP 404") && error.description.contains("--model"), error.description)
        }
        await standIn.stop()
        XCTAssertEqual(standIn.requests.map(\.status), [401, 404])
    }

    func testAnUnreachableServerIsRetriedThenReported() async throws {
        let standIn = try await startStandIn()
        await standIn.stop()  // nothing listens on its port now
        let client = makeClient(standIn, maxRetries: 1, timeout: 1)
        do { _ = try await generate(client); XCTFail("expected to give up") } catch let error as EndpointError {
            XCTAssertTrue(error.description.contains("no reply"), error.description)
        }
        XCTAssertEqual(client.tally.snapshot.transportErrors, 2)
    }

    func testRetryAfterAcceptsSecondsAndHTTPDatesAndBackOffDoubles() {
        XCTAssertEqual(RetryPolicy.retryAfterSeconds("7"), 7)
        let now = Date(timeIntervalSince1970: 1_000_000_000)  // Sun, 09 Sep 2001 01:46:40 GMT
        XCTAssertEqual(RetryPolicy.retryAfterSeconds("Sun, 09 Sep 2001 01:46:50 GMT", now: now)!, 10, accuracy: 0.001)
        XCTAssertNil(RetryPolicy.retryAfterSeconds("soon"))
        XCTAssertNil(RetryPolicy.retryAfterSeconds("-3"))
        let policy = RetryPolicy(maxRetries: 5, baseDelay: 1, maxDelay: 5, maxRetryAfter: 60)
        XCTAssertEqual([1, 2, 3, 4].map { policy.delay(retry: $0, retryAfter: nil, jitter: 0) }, [1, 2, 4, 5])
        XCTAssertEqual(policy.delay(retry: 1, retryAfter: 600, jitter: 0), 60, "a huge Retry-After is capped")
        XCTAssertEqual(policy.delay(retry: 2, retryAfter: nil, jitter: 1), 2.5, "jitter adds at most 25%")
    }
}
