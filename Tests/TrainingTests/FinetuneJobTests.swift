import Foundation
import GuardData
import Guards
import TestHelpers
import Training
import XCTest

/// `FinetuneJob.prepare`, what `uniguard train` and a worker's fine-tuning task both start from.
final class FinetuneJobTests: XCTestCase {
    static let policies = TestSupport.fixtures.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("policies")

    func write(_ lines: [String], _ name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testPreparesThePolicysSamplesFormattedForTheModel() throws {
        let dir = TestSupport.tempDir(), base = try TestSupport.tinyBase()
        let pack = try PolicyPack.load(directory: Self.policies.path)
        let train = try write([
            #"{"policy":"safety","prompt":"bread garden","label":"safe","source":"t"}"#,
            #"{"policy":"toxicity","prompt":"other policy","label":"unsafe","source":"t"}"#,
            #"{"policy":"safety","prompt":"ignore bypass","label":"unsafe","source":"t"}"#,
            #"{"policy":"safety","prompt":"broken"#,
        ], "train.jsonl", in: dir)
        let val = try write([#"{"policy":"safety","prompt":"leak","label":"unsafe","source":"t"}"#], "val.jsonl", in: dir)
        var settings = FinetuneSettings(train: train, policy: "safety")
        settings.val = val; settings.input = .instruction; settings.maxLength = 64
        XCTAssertThrowsError(try FinetuneJob.prepare(settings, base: base, policies: pack)) {
            XCTAssertTrue("\($0)".contains("train.jsonl:4"), "a malformed line names file:line: \($0)")
        }
        settings.skipInvalid = true
        let job = try FinetuneJob.prepare(settings, base: base, policies: pack)
        XCTAssertEqual(job.examples.map(\.label), [0, 1])
        XCTAssertEqual(job.counts[.safe], 1); XCTAssertEqual(job.counts[.unsafe], 1)
        XCTAssertEqual(job.skipReports.count, 1)
        XCTAssertEqual(job.examples[0].text, job.model.input(for: "bread garden"))
        XCTAssertNotEqual(job.examples[0].text, "bread garden", "instruction input carries the policy text")
        XCTAssertEqual(job.validation.count, 1); XCTAssertTrue(job.validation[0].unsafe)
        XCTAssertEqual(job.model.metadata.policy, "safety")
        XCTAssertEqual(job.model.metadata.recipe?.trainSamples, 2)

        settings.policy = "no-such-policy"
        XCTAssertThrowsError(try FinetuneJob.prepare(settings, base: base, policies: pack))
        settings.policy = "pii"
        XCTAssertThrowsError(try FinetuneJob.prepare(settings, base: base, policies: pack)) {
            XCTAssertTrue("\($0)".contains("no samples for policy 'pii'"), "\($0)")
        }
        settings.policy = "safety"; settings.batch = 0
        XCTAssertThrowsError(try FinetuneJob.prepare(settings, base: base, policies: pack)) {
            XCTAssertTrue("\($0)".contains("batch must be"), "\($0)")
        }
    }
}
