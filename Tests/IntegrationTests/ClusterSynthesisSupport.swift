@testable import Cluster
import Foundation
import GuardData
import LLMStandIn
import TestHelpers
import XCTest

/// What the `kind: synthesize` cluster tests share: a TestCluster and the LLM stand-in (the real chat-completions
/// protocol over HTTP on loopback, in this process), a job file over `safety` (bundled id) and `tax_advice` (a YAML
/// file relative to the job file), and checks on the output.
class ClusterSynthesisTestCase: XCTestCase {
    var cluster: TestCluster?
    var standIn: LLMStandIn?

    override func tearDown() async throws {
        cluster?.shutdown()
        cluster = nil
        await standIn?.stop()
        standIn = nil
    }

    static let keyVariable = "UNIGUARD_SYNTH_TEST_KEY"
    static let key = "sk-synth-test-7f3a91"

    /// The job file; `extra` adds keys (e.g. `embedding_dedup: false`, `refine_policy: true`).
    func writeJob(_ c: TestCluster, endpoint: String, count: Int, batch: Int, concurrency: Int = 2, extra: String = "") throws -> String {
        let policies = ClusterBinaries.packageRoot.appendingPathComponent("policies").path
        try FileManager.default.createDirectory(atPath: "\(c.root)/jobs/policies", withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: "\(c.root)/jobs/policies/tax_advice.yaml") {
            try FileManager.default.copyItem(atPath: "\(policies)/tax_advice.yaml", toPath: "\(c.root)/jobs/policies/tax_advice.yaml")
        }
        let yaml = """
            kind: synthesize
            name: synth-test
            policies: [safety, policies/tax_advice.yaml]
            policy_pack: \(policies)
            count: \(count)
            endpoint: \(endpoint)
            model: stand-in
            api_key_env: \(Self.keyVariable)
            batch: \(batch)
            concurrency: \(concurrency)
            seed: 3
            timeout: 20
            max_retries: 2
            output: ../out/samples.jsonl
            \(extra)
            """
        let path = "\(c.root)/jobs/synth.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func start(_ behaviour: StandInBehaviour = StandInBehaviour()) async throws -> LLMStandIn {
        var b = behaviour
        b.apiKey = Self.key
        b.model = "stand-in"
        let s = try await LLMStandIn.start(b)
        standIn = s
        setenv(Self.keyVariable, Self.key, 1)
        return s
    }

    func samples(_ path: String) throws -> [Sample] {
        try SampleReader.readAll(path: path)
    }

    /// Exactly `count` per (policy, label), no (policy, label, normalised prompt) twice, every line from the stand-in.
    func assertExactOutput(_ path: String, count: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let all = try samples(path)
        let byGroup = all.reduce(into: [String: Int]()) { $0["\($1.policy)/\($1.label.rawValue)", default: 0] += 1 }
        XCTAssertEqual(byGroup, ["safety/safe": count, "safety/unsafe": count, "tax_advice/safe": count, "tax_advice/unsafe": count],
                       file: file, line: line)
        var seen = ExactDeduplicator()
        for s in all {
            XCTAssertTrue(seen.insert(policy: s.policy, label: s.label, prompt: s.prompt), "duplicate: \(s.prompt)", file: file, line: line)
            XCTAssertTrue(s.source.hasPrefix("synth:stand-in#\(s.policy)/"), s.source, file: file, line: line)
            XCTAssertFalse(s.rationale?.isEmpty ?? true, file: file, line: line)
        }
    }
}
