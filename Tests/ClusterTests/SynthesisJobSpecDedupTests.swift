@testable import Cluster
import Foundation
import GuardData
import XCTest

/// The synthesize job keys for embedding dedup and `refine_policy`: CLI defaults, errors naming the key, jobs stored
/// before the keys existed, and the refine task.
final class SynthesisJobSpecDedupTests: XCTestCase {
    private let minimal = "kind: synthesize\npolicies: [safety]\ncount: 5\nendpoint: http://127.0.0.1:8080/v1\nmodel: m\n"

    private func parse(_ extra: String) throws -> SynthesisJobSpec {
        try SynthesisSpecParser().parse(yaml: minimal + extra, source: "synth.yaml", baseDirectory: "/jobs")
    }

    func testDefaultsMirrorTheCLI() throws {
        let spec = try parse("")
        XCTAssertEqual(spec.nearDuplicates, NearDuplicateSettings(threshold: 0.95, window: 1024, embedModel: nil))
        XCTAssertFalse(spec.refines)
        XCTAssertNil(try parse("embedding_dedup: false\n").nearDuplicates)
        let tuned = try parse("near_dup_threshold: 0.9\nnear_dup_window: 0\nembed_model: enc\nrefine_policy: true\n")
        XCTAssertEqual(tuned.nearDuplicates, NearDuplicateSettings(threshold: 0.9, window: 0, embedModel: "/jobs/enc"))
        XCTAssertTrue(tuned.refines)
    }

    func testBadValuesNameTheKey() {
        let cases: [(String, String, String)] = [
            ("near_dup_threshold: 0\n", "near_dup_threshold", "out of range"),
            ("near_dup_threshold: .nan\n", "near_dup_threshold", "expected a number"),
            ("near_dup_window: -1\n", "near_dup_window", "out of range"),
            ("near_dup_window: 200000\n", "near_dup_window", "out of range"),
            ("embedding_dedup: sometimes\n", "embedding_dedup", "true or false"),
            ("embedding_dedup: false\nnear_dup_threshold: 0.9\n", "near_dup_threshold", "needs embedding_dedup: true"),
            ("embedding_dedup: false\nembed_model: enc\n", "embed_model", "needs embedding_dedup: true"),
            ("refine_policy: 1\n", "refine_policy", "true or false"),
            ("reflection: false\nrefine_policy: true\n", "refine_policy", "needs reflection: true"),
        ]
        for (extra, key, text) in cases {
            XCTAssertThrowsError(try parse(extra), extra) { error in
                guard let e = error as? JobSpecError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.key, key, extra)
                XCTAssertTrue(e.reason.contains(text), "\(e)")
            }
        }
    }

    /// A job stored before these keys existed resumes with exact dedup only and no refinement.
    func testJobsStoredBeforeTheKeysDecodeWithoutThem() throws {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(try parse(""))) as! [String: Any]
        object["nearDuplicates"] = nil
        object["refinePolicy"] = nil
        let old = try JSONDecoder().decode(SynthesisJobSpec.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertNil(old.nearDuplicates)
        XCTAssertFalse(old.refines)
    }

    func testRefineTaskCarriesThePolicyAndItsLastFortyDisagreements() throws {
        let yaml = "id: safety\n"
        let prepared = PreparedSynthesis(spec: try parse("api_key_env: KEY_VAR\n"), policies: [.init(id: "safety", yaml: yaml)])
        let disagreements = (0..<50).map { JobDisagreement(policy: "safety", prompt: "p\($0)", intended: .unsafe, judged: .safe, reason: "r") }
        let a = prepared.refineAssignment(taskID: "job-1/refine-1", attempt: 1, deadlineUnixMs: 9, policy: "safety", disagreements: disagreements)
        XCTAssertEqual(a.synthRefine.policyYaml, yaml)
        XCTAssertEqual(a.synthRefine.apiKeyEnv, "KEY_VAR")
        XCTAssertEqual(a.synthRefine.disagreements.map(\.prompt), (10..<50).map { "p\($0)" })
        XCTAssertEqual(JobDisagreement(wire: a.synthRefine.disagreements[0], policy: "safety"), disagreements[10])
        XCTAssertEqual(try JobDisagreement.decode(line: disagreements[3].line), disagreements[3])
    }
}
