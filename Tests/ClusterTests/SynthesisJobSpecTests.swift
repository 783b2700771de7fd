@testable import Cluster
import Foundation
import GuardData
import XCTest

/// `kind: synthesize` job files: defaults, paths relative to the job file, every key checked with an error naming it,
/// and the prepared job carrying each policy's YAML and building the batch task.
final class SynthesisJobSpecTests: XCTestCase {
    static let policies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("policies").path

    private func parse(_ body: String, base: String = "/jobs") throws -> SynthesisJobSpec {
        try SynthesisSpecParser().parse(yaml: "kind: synthesize\n" + body, source: "synth.yaml", baseDirectory: base)
    }

    private func reason(_ body: String, file: StaticString = #filePath, line: UInt = #line) -> JobSpecError? {
        do {
            _ = try parse(body)
            XCTFail("accepted: \(body)", file: file, line: line)
        } catch let e as JobSpecError {
            return e
        } catch {
            XCTFail("not a JobSpecError: \(error)", file: file, line: line)
        }
        return nil
    }

    let minimal = "policies: [safety]\ncount: 5\nendpoint: http://127.0.0.1:8080/v1\nmodel: m\n"

    func testDefaultsAndRelativePaths() throws {
        let spec = try parse("policies: [safety, p/pii.yaml]\ncount: 5\nendpoint: http://h:1/v1\nmodel: m\noutput: out/s.jsonl\n")
        XCTAssertEqual(spec.policies, ["safety", "/jobs/p/pii.yaml"])
        XCTAssertEqual(spec.output, "/jobs/out/s.jsonl")
        XCTAssertEqual(spec.batch, 8)
        XCTAssertEqual(spec.concurrency, 4)
        XCTAssertEqual(spec.temperature, 0.9)
        XCTAssertEqual(spec.reflection, "relabel")
        XCTAssertNil(spec.apiKeyEnv)
        XCTAssertEqual(try parse(minimal + "reflection: false\n").reflection, nil)
        XCTAssertEqual(try parse(minimal + "on_disagreement: drop\n").reflection, "drop")
    }

    func testEveryKeyIsCheckedByName() {
        let cases: [(String, String, String)] = [
            ("policies: [safety]\nendpoint: http://h/v1\nmodel: m\n", "count", "missing"),
            ("policies: []\ncount: 1\nendpoint: http://h/v1\nmodel: m\n", "policies", "empty"),
            (minimal + "count_per_policy: 3\n", "count_per_policy", "unknown key"),
            (minimal.replacingOccurrences(of: "count: 5", with: "count: -1"), "count", "out of range"),
            (minimal.replacingOccurrences(of: "http://127.0.0.1:8080/v1", with: "ftp://x"), "endpoint", "http(s) URL"),
            (minimal + "temperature: .nan\n", "temperature", "expected a number"),
            (minimal + "batch: 0\n", "batch", "out of range"),
            (minimal + "concurrency: many\n", "concurrency", "expected an integer"),
            (minimal + "reflection: maybe\n", "reflection", "true or false"),
            (minimal + "reflection: false\non_disagreement: drop\n", "on_disagreement", "needs reflection"),
            (minimal + "api_key_env: \"sk-abc 123\"\n", "api_key_env", "not an environment variable name"),
        ]
        for (body, key, text) in cases {
            guard let e = reason(body) else { continue }
            XCTAssertEqual(e.key, key, "\(body)")
            XCTAssertTrue(e.reason.contains(text), "\(e)")
            XCTAssertEqual(e.source, "synth.yaml")
        }
    }

    func testPreparedJobCarriesPolicyTextAndBuildsTheBatchTask() throws {
        let spec = try parse("policies: [safety, \(Self.policies)/tax_advice.yaml]\npolicy_pack: \(Self.policies)\ncount: 3\nendpoint: http://h:1/v1\nmodel: m\napi_key_env: KEY_VAR\n")
        let prepared = try PreparedSynthesis.prepare(spec)
        XCTAssertEqual(prepared.policies.map(\.id), ["safety", "tax_advice"])
        XCTAssertEqual(try PolicyParser.parse(yaml: prepared.policies[1].yaml, path: "t").id, "tax_advice")
        let a = prepared.assignment(taskID: "job-1/batch-3", attempt: 2, deadlineUnixMs: 9, policy: "tax_advice", label: .unsafe, sequence: 1, count: 3)
        XCTAssertEqual(a.synthBatch.apiKeyEnv, "KEY_VAR")
        XCTAssertEqual(a.synthBatch.policyYaml, prepared.policies[1].yaml)
        XCTAssertEqual(a.synthBatch.label, "unsafe")
        XCTAssertEqual(a.attempt, 2)
        XCTAssertEqual(prepared.source(policy: "tax_advice", label: .unsafe, sequence: 1), "synth:m#tax_advice/unsafe/1")
        // A policy given twice, an unknown id, and an output that already holds data are refused by key.
        let twice = try parse("policies: [safety, safety]\npolicy_pack: \(Self.policies)\ncount: 3\nendpoint: http://h:1/v1\nmodel: m\n")
        XCTAssertThrowsError(try PreparedSynthesis.prepare(twice)) { XCTAssertEqual(($0 as? JobSpecError)?.key, "policies[1]") }
        let unknown = try parse("policies: [no_such_policy]\npolicy_pack: \(Self.policies)\ncount: 3\nendpoint: http://h:1/v1\nmodel: m\n")
        XCTAssertThrowsError(try PreparedSynthesis.prepare(unknown)) { XCTAssertEqual(($0 as? JobSpecError)?.key, "policies[0]") }
        let existing = FileManager.default.temporaryDirectory.appendingPathComponent("synth-existing-\(UUID().uuidString).jsonl").path
        try "{}\n".write(toFile: existing, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: existing) }
        let taken = try parse("policies: [safety]\npolicy_pack: \(Self.policies)\ncount: 3\nendpoint: http://h:1/v1\nmodel: m\noutput: \(existing)\n")
        XCTAssertThrowsError(try PreparedSynthesis.prepare(taken)) { XCTAssertEqual(($0 as? JobSpecError)?.key, "output") }
    }
}
