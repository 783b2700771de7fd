import Foundation
import GuardData
import Guards
import Serving
import TestHelpers
import XCTest

/// `uniguard serve`'s server over real HTTP on loopback: the moderation and classify APIs against direct scoring,
/// batching of concurrent requests, errors naming fields, limits, graceful drain and the metrics page.
final class ServingTests: XCTestCase {
    var root: URL!
    override func setUp() { root = TestSupport.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    /// Two prompt guards ("alpha", "beta") and a MultiTaskGuard serving two policy texts ("gamma", "delta").
    func catalog() throws -> (GuardCatalog, [URL]) {
        let dirs = [try ServingFixture.promptGuard("alpha", seed: 1, in: root), try ServingFixture.promptGuard("beta", seed: 2, in: root),
                    try ServingFixture.multiTaskGuard(in: root)]
        let extra = [ExtraPolicy(id: "gamma", instruction: "no bypass or override of the rules"),
                     ExtraPolicy(id: "delta", instruction: "nothing about coffee or music")]
        return (try GuardCatalog.load(directories: dirs, extra: extra), dirs)
    }

    static let prompts = ["bread garden music please", "ignore bypass leak exploit now", "the chess and the river", "jailbreak"]

    func testModerationAnswersEveryPolicyWithTheScoresOfDirectScoring() async throws {
        let (catalog, dirs) = try catalog()
        let running = try await ServingFixture.start(catalog)

        let (status, body) = try await ServingFixture.post(running.url("/v1/moderations"), json: ["input": Self.prompts])
        XCTAssertEqual(status, 200, "\(body)")
        let response = try XCTUnwrap(body as? [String: Any])
        XCTAssertTrue((response["id"] as? String)?.hasPrefix("modr-") == true)
        let results = try XCTUnwrap(response["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, Self.prompts.count)

        // The same models loaded separately, scored directly: the served scores must match input by input.
        let alpha = try GuardModel.load(dirs[0]), multi = try GuardModel.load(dirs[2])
        let alphaScores = try alpha.scores(inputs: Self.prompts.map { alpha.input(for: $0) })
        let gammaScores = try multi.scores(inputs: Self.prompts.map { multi.input(for: $0, policyText: "no bypass or override of the rules") })
        let deltaScores = try multi.scores(inputs: Self.prompts.map { multi.input(for: $0, policyText: "nothing about coffee or music") })
        for (i, result) in results.enumerated() {
            let scores = try XCTUnwrap(result["category_scores"] as? [String: Double])
            let categories = try XCTUnwrap(result["categories"] as? [String: Bool])
            XCTAssertEqual(Set(scores.keys), ["alpha", "beta", "gamma", "delta"])
            XCTAssertEqual(scores["alpha"]!, Double(alphaScores[i]), accuracy: 1e-5)
            XCTAssertEqual(scores["gamma"]!, Double(gammaScores[i]), accuracy: 1e-5)
            XCTAssertEqual(scores["delta"]!, Double(deltaScores[i]), accuracy: 1e-5)
            for (id, s) in scores { XCTAssertEqual(categories[id], s >= 0.5, "\(id)") }
            XCTAssertEqual(result["flagged"] as? Bool, categories.values.contains(true))
        }
        // The instruction is read: one model, two policies, different scores.
        XCTAssertNotEqual(gammaScores, deltaScores)

        // A single string, one model, a subset of its policies.
        let (s2, b2) = try await ServingFixture.post(running.url("/v1/moderations"),
                                                     json: ["input": "jailbreak", "model": "multi-guard", "policies": ["delta"]])
        XCTAssertEqual(s2, 200, "\(b2)")
        let r2 = try XCTUnwrap(((b2 as? [String: Any])?["results"] as? [[String: Any]])?.first)
        XCTAssertEqual((r2["category_scores"] as? [String: Double]).map { Array($0.keys) }, ["delta"])
        XCTAssertEqual((b2 as? [String: Any])?["model"] as? String, "multi-guard")

        // classify: the CLI's JSON, one object or a list.
        let (s3, b3) = try await ServingFixture.post(running.url("/v1/classify"), json: ["text": Self.prompts[1], "policy": "alpha"])
        XCTAssertEqual(s3, 200, "\(b3)")
        let one = try XCTUnwrap(b3 as? [String: Any])
        XCTAssertEqual(one["score"] as? Double ?? -1, Double(alphaScores[1]), accuracy: 1e-5)
        XCTAssertEqual(one["label"] as? String, alphaScores[1] >= 0.5 ? "unsafe" : "safe")
        let (s4, b4) = try await ServingFixture.post(running.url("/v1/classify"),
                                                     json: [["text": Self.prompts[0], "policy": "gamma"], ["text": Self.prompts[2], "policy": "alpha"]])
        XCTAssertEqual(s4, 200, "\(b4)")
        let list = try XCTUnwrap(b4 as? [[String: Any]])
        XCTAssertEqual(list.map { $0["policy"] as? String }, ["gamma", "alpha"])
        XCTAssertEqual(list[1]["score"] as? Double ?? -1, Double(alphaScores[2]), accuracy: 1e-5)
        XCTAssertEqual(list[0]["score"] as? Double ?? -1, Double(gammaScores[0]), accuracy: 1e-5)

        // Models, health and readiness.
        let (ms, md) = try await ServingFixture.request(running.url("/v1/models"))
        XCTAssertEqual(ms, 200)
        let models = try XCTUnwrap((try JSONSerialization.jsonObject(with: md) as? [String: Any])?["data"] as? [[String: Any]])
        XCTAssertEqual(models.map { $0["id"] as? String }, ["alpha-guard", "beta-guard", "multi-guard"])
        XCTAssertEqual(models[2]["policies"] as? [String], ["gamma", "delta"])
        let health = try await ServingFixture.request(running.url("/healthz")).status
        let ready = try await ServingFixture.request(running.url("/readyz")).status
        XCTAssertEqual(health, 200)
        XCTAssertEqual(ready, 200)
        try await running.stop()
    }

    func testConcurrentRequestsAreBatchedTogether() async throws {
        let (catalog, _) = try catalog()
        // A long wait and a large batch: requests sent together must share batches.
        let running = try await ServingFixture.start(catalog, ServeOptions(maxBatch: 64, maxWait: .milliseconds(300), waitPolicy: .always))
        let url = running.url("/v1/classify")
        let statuses = try await ServingFixture.postConcurrently(url, (0..<16).map { ["text": Self.prompts[$0 % 4], "policy": "beta"] })
        XCTAssertEqual(statuses, [Int](repeating: 200, count: 16))
        let metrics = String(decoding: try await ServingFixture.request(running.url("/metrics")).body, as: UTF8.self)
        let batches = try XCTUnwrap(ServingFixture.sample(metrics, "uniguard_serve_batch_size_count{model=\"beta-guard\"}"), metrics)
        let inputs = try XCTUnwrap(ServingFixture.sample(metrics, "uniguard_serve_batch_size_sum{model=\"beta-guard\"}"), metrics)
        XCTAssertEqual(inputs, 16)
        XCTAssertLessThan(batches, 8, "16 concurrent requests ran in \(batches) batches")
        try await running.stop()
    }

    func testALoneRequestDoesNotWaitForCompanyUnderTheArrivalsPolicy() async throws {
        let (catalog, _) = try catalog()
        // maxWait 20 s: a lone request that waited for it would time out the assertion below by far.
        let running = try await ServingFixture.start(catalog, ServeOptions(maxBatch: 64, maxWait: .seconds(20), waitPolicy: .arrivals))
        let started = ContinuousClock.now
        for prompt in Self.prompts {
            let status = try await ServingFixture.post(running.url("/v1/moderations"), json: ["input": prompt]).status
            XCTAssertEqual(status, 200)
        }
        XCTAssertLessThan(started.duration(to: .now), .seconds(10), "sequential requests waited for a batch to fill")
        try await running.stop()
    }

    func testBadRequestsGet4xxNamingTheField() async throws {
        let (catalog, _) = try catalog()
        let running = try await ServingFixture.start(catalog)
        let moderations = running.url("/v1/moderations"), classify = running.url("/v1/classify")
        let cases: [(URL, Any, Int, String)] = [
            (moderations, ["model": "alpha-guard"], 400, "input"),
            (moderations, ["input": 5], 400, "input"),
            (moderations, ["input": ["fine", 3]], 400, "input[1]"),
            (moderations, ["input": [] as [String]], 400, "input"),
            (moderations, ["input": [["type": "image_url", "image_url": "x"]]], 400, "input[0].type"),
            (moderations, ["input": "x", "model": "omni-moderation-latest"], 404, "model"),
            (moderations, ["input": "x", "policies": ["alpha", "nope"]], 400, "policies[1]"),
            (moderations, ["input": "x", "model": "alpha-guard", "policies": ["gamma"]], 400, "policies[0]"),
            (moderations, [1, 2], 400, "body"),
            (classify, ["text": "x"], 400, "policy"),
            (classify, ["policy": "alpha"], 400, "text"),
            (classify, [["text": "x", "policy": "alpha"], ["text": "y", "policy": "zeta"]], 400, "[1].policy"),
            (classify, "just a string", 400, "body"),
        ]
        for (url, json, status, param) in cases {
            let (s, body) = try await ServingFixture.post(url, json: json)
            XCTAssertEqual(s, status, "\(json) → \(body)")
            XCTAssertEqual(ServingFixture.errorParam(body), param, "\(json) → \(body)")
        }
        let (s, data) = try await ServingFixture.request(moderations, method: "POST", body: Data("{\"input\": ".utf8))
        XCTAssertEqual(s, 400)
        XCTAssertEqual(ServingFixture.errorParam(try JSONSerialization.jsonObject(with: data)), "body")
        let (s404, d404) = try await ServingFixture.request(running.url("/v2/nothing"))
        XCTAssertEqual(s404, 404)
        XCTAssertTrue(String(decoding: d404, as: UTF8.self).contains("no such endpoint"), String(decoding: d404, as: UTF8.self))
        // The server keeps serving after all that.
        let ok = try await ServingFixture.post(moderations, json: ["input": "fine"]).status
        XCTAssertEqual(ok, 200)
        try await running.stop()
    }

    func testOversizedBodiesAndInputsAreRefused() async throws {
        let (catalog, _) = try catalog()
        let limits = RequestLimits(maxBodyBytes: 4096, maxInputs: 3, maxInputBytes: 100)
        let running = try await ServingFixture.start(catalog, ServeOptions(limits: limits))
        let url = running.url("/v1/moderations")
        let big = try await ServingFixture.post(url, json: ["input": String(repeating: "bread ", count: 2000)])
        XCTAssertEqual(big.status, 413)
        XCTAssertEqual(ServingFixture.errorParam(big.object), "body")
        let long = try await ServingFixture.post(url, json: ["input": ["fine", String(repeating: "a", count: 101)]])
        XCTAssertEqual(long.status, 413)
        XCTAssertEqual(ServingFixture.errorParam(long.object), "input[1]")
        let many = try await ServingFixture.post(url, json: ["input": ["a", "b", "c", "d"]])
        XCTAssertEqual(many.status, 413)
        XCTAssertEqual(ServingFixture.errorParam(many.object), "input")
        let atLimit = try await ServingFixture.post(url, json: ["input": ["a", "b", String(repeating: "a", count: 100)]])
        XCTAssertEqual(atLimit.status, 200, "\(atLimit.object)")
        try await running.stop()
    }

    func testGracefulShutdownAnswersRequestsInFlight() async throws {
        let (catalog, _) = try catalog()
        // Requests sit in the batcher for up to 2 s: shutdown starts while all of them are in flight.
        let running = try await ServingFixture.start(catalog, ServeOptions(maxBatch: 1000, maxWait: .seconds(2), waitPolicy: .always))
        let url = running.url("/v1/moderations")
        let bodies = (0..<8).map { ["input": Self.prompts[$0 % 4]] }
        let requests = Task { try await ServingFixture.postConcurrently(url, bodies) }
        try await Task.sleep(for: .milliseconds(500))
        let ready = try await ServingFixture.request(running.url("/readyz")).status
        XCTAssertEqual(ready, 200)
        try await running.stop()
        let statuses = try await requests.value
        XCTAssertEqual(statuses, [Int](repeating: 200, count: 8), "every request in flight at shutdown is answered")
        // And the port is closed afterwards.
        do {
            _ = try await ServingFixture.request(running.url("/healthz"))
            XCTFail("the server still answers after shutdown")
        } catch {}
    }

    func testMetricsCountRequestsErrorsBatchesAndLatencyPerModel() async throws {
        let (catalog, _) = try catalog()
        let running = try await ServingFixture.start(catalog)
        for _ in 0..<3 { _ = try await ServingFixture.post(running.url("/v1/moderations"), json: ["input": "bread", "model": "alpha-guard"]) }
        _ = try await ServingFixture.post(running.url("/v1/moderations"), json: ["nothing": 1])
        let (status, data) = try await ServingFixture.request(running.url("/metrics"))
        XCTAssertEqual(status, 200)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(ServingFixture.sample(text, #"uniguard_serve_requests_total{endpoint="/v1/moderations",model="alpha-guard",status="200"}"#), 3, text)
        XCTAssertEqual(ServingFixture.sample(text, #"uniguard_serve_requests_total{endpoint="/v1/moderations",model="",status="400"}"#), 1, text)
        XCTAssertEqual(ServingFixture.sample(text, #"uniguard_serve_errors_total{endpoint="/v1/moderations",status="400"}"#), 1, text)
        XCTAssertEqual(ServingFixture.sample(text, #"uniguard_serve_request_duration_seconds_count{endpoint="/v1/moderations",model="alpha-guard"}"#), 3, text)
        XCTAssertEqual(ServingFixture.sample(text, #"uniguard_serve_queue_wait_seconds_count{model="alpha-guard"}"#), 3, text)
        XCTAssertEqual(ServingFixture.sample(text, #"uniguard_serve_inputs_total{model="alpha-guard"}"#), 3, text)
        XCTAssertNotNil(ServingFixture.sample(text, #"uniguard_serve_inference_seconds_bucket{model="alpha-guard",le="+Inf"}"#), text)
        XCTAssertTrue(text.contains("# TYPE uniguard_serve_batch_size histogram"), text)
        try await running.stop()
    }
}
