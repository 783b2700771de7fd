@testable import Cluster
import Foundation
@testable import Fusion
import Guards
import XCTest

/// Prepared merge-search jobs, validation shards, the wire form of an arm, and the weight-sign evaluator.
final class ClusterJobSpecTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/merge").path

    func testShardsCoverEveryLineOnce() {
        let lines = (0..<10).map { "{\"label\":\"safe\",\"i\":\($0)}" }
        let shards = ValidationShards.plan(lines: lines, count: 3)
        XCTAssertEqual(shards.map(\.lineCount), [4, 3, 3])
        XCTAssertEqual(shards.map(\.firstLine), [0, 4, 7])
        XCTAssertEqual(shards[1].hash, ValidationShards.hash(lines[4..<7]))
        XCTAssertEqual(ValidationShards.plan(lines: Array(lines.prefix(2)), count: 5).count, 2)
        XCTAssertEqual(ValidationLines.split(Data("a\n\n b\r\n  \n".utf8)), ["a", " b"])
    }

    /// The coordinator's wire task rebuilds, on the worker, the same merge recipe the local search uses.
    func testWireTaskRoundTripAndWeightSignEvaluator() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let validation = directory.appendingPathComponent("val.jsonl").path
        let lines = (0..<40).map { "{\"prompt\":\"p\($0)\",\"label\":\"\($0 % 3 == 0 ? "unsafe" : "safe")\"}" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: validation, atomically: true, encoding: .utf8)
        let candidates = ["m0", "m1", "m2"].map { "\(fixtures)/\($0)" }
        var spec = MergeSearchSpec(name: "t", candidates: candidates, validation: validation)
        spec.methods = [.linear]
        spec.subsets = [.all, .attention]
        spec.iterations = 4
        spec.seed = 3
        spec.validationShards = 2
        spec.evaluator = ArmEvaluatorRegistry.weightSign
        let prepared = try PreparedMergeSearch.prepare(spec)
        XCTAssertEqual(prepared.ranking.kept, candidates, "weight-sign jobs search the candidates as written")
        XCTAssertEqual(prepared.shards.count, 2)
        XCTAssertEqual(prepared.shards.map(\.scoredSamples), [20, 20], "weight-sign scores every line of a shard")
        XCTAssertEqual(prepared.candidates[0].files.map(\.name), ["config.json", "model.safetensors"])
        XCTAssertNotNil(prepared.blobPaths[prepared.candidates[1].weightsHash])

        var run = try prepared.makeRun()
        let arm = run.ask()
        let assignment = prepared.assignment(arm: arm, shard: 1, taskID: "t", attempt: 1, deadlineUnixMs: 0, sharedPaths: false)
        let task = assignment.mergeArm
        XCTAssertEqual(task.seed, UInt64(arm.id.rawValue), "arm id as merge seed, like the local run")
        let rebuilt = try task.models.map { try ModelBlobSet(wire: $0) }
        XCTAssertEqual(rebuilt, prepared.candidates.map { ModelBlobSet(name: $0.name, path: "", files: $0.files) })
        let (wireArm, wireSpace) = try MergeArmWire.armAndSpace(task, candidates: candidates, baseModel: nil)
        XCTAssertEqual(wireArm, arm)
        let config = try wireArm.mergeConfig(wireSpace)
        XCTAssertEqual(config, try arm.mergeConfig(run.space))

        // Shards summed equal the whole file scored at once.
        let evaluator = WeightSignEvaluator()
        func evaluation(_ lines: [String]) throws -> ArmEvaluation {
            try ArmEvaluation(arm: wireArm, space: wireSpace, validationLines: lines)
        }
        let whole = try evaluator.evaluate(evaluation(lines))
        let parts = try prepared.shards.map { s in
            try evaluator.evaluate(evaluation(Array(lines[s.firstLine..<s.firstLine + s.lineCount])))
        }
        XCTAssertEqual(parts.reduce(ConfusionCounts(), +), whole)
        XCTAssertEqual(whole.total, 40)
        XCTAssertEqual(try evaluator.evaluate(evaluation(lines)), whole, "deterministic")
        XCTAssertThrowsError(try evaluator.evaluate(evaluation(["{\"label\":\"maybe\"}"])))
        XCTAssertThrowsError(try ArmEvaluatorRegistry.standard.evaluator(named: "nope"))
    }

    /// The classifier scores only the policy's samples, so a shard's counts must sum to those, not to its lines.
    func testClassifierShardsExpectOnlyThePolicysSamples() throws {
        var spec = MergeSearchSpec(name: "t", candidates: ["a", "b"], validation: "v")
        spec.evaluator = ArmEvaluatorRegistry.classifier
        let ranking = CandidateRanking(scores: [], kept: ["a", "b"], instructionCount: 1, policy: "t", sampleCount: 0)
        let lines = ["t", "other", "t", "t"].enumerated().map { "{\"policy\":\"\($1)\",\"prompt\":\"p\($0)\",\"label\":\"safe\",\"source\":\"test\"}" }
        XCTAssertEqual(try PreparedMergeSearch.scoredSamples(lines, spec: spec, ranking: ranking, shard: 0), 3)
        spec.evaluator = ArmEvaluatorRegistry.weightSign
        XCTAssertEqual(try PreparedMergeSearch.scoredSamples(lines, spec: spec, ranking: ranking, shard: 0), 4)
    }

    func testPeerTextCannotBreakALogLine() {
        XCTAssertEqual(LogSafe.text("a\nb\r\tc\\d"), "a\\nb\\r\\tc\\\\d")
        XCTAssertEqual(LogSafe.text("bell\u{07} del\u{7F} ls\u{2028}"), "bell\\u{7} del\\u{7f} ls\\u{2028}")
        XCTAssertEqual(LogSafe.text("héllo 🙂"), "héllo 🙂", "printable text is unchanged")
        XCTAssertEqual(LogSafe.text(String(repeating: "x", count: 12), limit: 10), "xxxxxxxxxx... (2 more characters)")
    }

    func testSubsetWireForm() throws {
        XCTAssertEqual(MergeArmWire.encode(.attention), "attention")
        let filtered = ParameterSubset(.all, exclude: [NamePattern(substring: "layer.0.")])
        XCTAssertEqual(try MergeArmWire.decodeSubset(MergeArmWire.encode(filtered)), filtered)
        XCTAssertThrowsError(try MergeArmWire.decodeSubset("{broken"))
    }
}
