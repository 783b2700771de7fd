@testable import Cluster
import Foundation
@testable import Fusion
import XCTest

/// Merge-search job specs, validation shards, the wire form of an arm, and the weight-sign evaluator.
final class ClusterJobSpecTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/merge").path

    func testParseResolvesPathsAndReadsEveryKey() throws {
        let yaml = """
            kind: merge-search
            name: demo
            candidates: [models/a, /abs/b]
            base_model: base
            methods: [linear, ties]
            subsets: [all, {kind: attention, exclude: ["layer.0."]}]
            method_parameters: {ties: {density: 0.3}}
            strategy: ucb
            iterations: 9
            batch: 2
            seed: 5
            validation: data/val.jsonl
            validation_shards: 3
            threshold: 0.4
            evaluator: weight-sign
            evaluator_options: {min_ms: 10}
            output: out/best
            """
        let spec = try MergeSearchJobSpecParser().parse(yaml: yaml, baseDirectory: "/jobs", source: "job.yaml")
        XCTAssertEqual(spec.candidates, ["/jobs/models/a", "/abs/b"])
        XCTAssertEqual(spec.baseModel, "/jobs/base")
        XCTAssertEqual(spec.methods, [.linear, .ties])
        XCTAssertEqual(spec.subsets.count, 2)
        XCTAssertEqual(spec.subsets[1].kind, .attention)
        XCTAssertEqual(spec.methodParameters["ties"]?["density"], 0.3)
        XCTAssertEqual(spec.strategy, .ucb)
        XCTAssertEqual(spec.iterations, 9)
        XCTAssertEqual(spec.batch, 2)
        XCTAssertEqual(spec.seed, 5)
        XCTAssertEqual(spec.validation, "/jobs/data/val.jsonl")
        XCTAssertEqual(spec.validationShards, 3)
        XCTAssertEqual(spec.threshold, 0.4)
        XCTAssertEqual(spec.evaluatorOptions["min_ms"], 10)
        XCTAssertEqual(spec.output, "/jobs/out/best")
    }

    func testAcceptsTheLocalMergeSearchKeys() throws {
        let yaml = "policy: safety\ncandidates: [a, b]\ntop_k: 2\nstrategies: [random]\niterations: 3\nvalidation: v.jsonl\nevaluator: weight-sign"
        let spec = try MergeSearchJobSpecParser().parse(yaml: yaml, baseDirectory: "/d", source: "j")
        XCTAssertEqual(spec.policy, "safety")
        XCTAssertEqual(spec.topK, 2)
        XCTAssertEqual(spec.strategy, .random)
        XCTAssertEqual(spec.mergeSeed(arm: ArmID(7)), 7, "arm id as seed, like LocalMergeSearch")
        XCTAssertThrowsError(try MergeSearchJobSpecParser().parse(
            yaml: "candidates: [a]\nstrategies: [random, ucb]\niterations: 3\nvalidation: v", baseDirectory: "/", source: "j")) {
            XCTAssertEqual(($0 as? JobSpecError)?.key, "strategies")
        }
    }

    func testBadSpecsNameTheKey() {
        let cases: [(String, String)] = [
            ("candidates: [a]\niterations: 3\nvalidation: v\nitertions: 4", "itertions"),
            ("kind: pretrain\ncandidates: [a]\niterations: 3\nvalidation: v", "kind"),
            ("candidates: [a]\niterations: 0\nvalidation: v", "iterations"),
            ("candidates: [a]\niterations: 2\nvalidation: v\nstrategy: greedy", "strategy"),
            ("candidates: [a]\niterations: 2\nvalidation: v\nmethods: [mix]", "methods"),
            ("iterations: 2\nvalidation: v", "candidates"),
            ("candidates: [a]\niterations: 2\nvalidation: v\nmethods: [ties]", "(search space)"),
            ("[not, a, mapping]", "(document)"),
        ]
        for (yaml, key) in cases {
            XCTAssertThrowsError(try MergeSearchJobSpecParser().parse(yaml: yaml, baseDirectory: "/", source: "j")) { error in
                XCTAssertEqual((error as? JobSpecError)?.key, key, "\(error)")
            }
        }
    }

    func testShardsCoverEveryLineOnce() {
        let lines = (0..<10).map { "{\"label\":\"safe\",\"i\":\($0)}" }
        let shards = ValidationShards.plan(lines: lines, count: 3)
        XCTAssertEqual(shards.map(\.lineCount), [4, 3, 3])
        XCTAssertEqual(shards.map(\.firstLine), [0, 4, 7])
        XCTAssertEqual(shards[1].hash, ValidationShards.hash(lines[4..<7]))
        XCTAssertEqual(ValidationShards.plan(lines: Array(lines.prefix(2)), count: 5).count, 2)
        XCTAssertEqual(ValidationShards.lines(Data("a\n\n b\r\n  \n".utf8)), ["a", " b"])
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
        let spec = MergeSearchJobSpec(name: "t", candidates: candidates, subsets: [.all, .attention], iterations: 4,
                                      seed: 3, validation: validation, validationShards: 2, evaluator: "weight-sign")
        let prepared = try PreparedMergeSearch.prepare(spec)
        XCTAssertEqual(prepared.shards.count, 2)
        XCTAssertEqual(prepared.candidates[0].files.map(\.name), ["config.json", "model.safetensors"])
        XCTAssertNotNil(prepared.blobPaths[prepared.candidates[1].weightsHash])

        var search = try spec.makeSearch()
        let arm = search.ask()
        let assignment = prepared.assignment(arm: arm, shard: 1, taskID: "t", attempt: 1, deadlineUnixMs: 0, sharedPaths: false)
        let task = assignment.mergeArm
        let rebuilt = try task.models.map { try ModelBlobSet(wire: $0) }
        XCTAssertEqual(rebuilt, prepared.candidates.map { ModelBlobSet(name: $0.name, path: "", files: $0.files) })
        let config = try MergeArmWire.mergeConfig(task, candidates: candidates, baseModel: nil)
        XCTAssertEqual(config, try arm.mergeConfig(spec.searchSpace, randomSeed: spec.mergeSeed(arm: arm.id)))

        // Shards summed equal the whole file scored at once.
        let evaluator = WeightSignEvaluator()
        let whole = try evaluator.evaluate(ArmEvaluationInput(mergeConfig: config, validationLines: lines))
        let parts = try prepared.shards.map { s in
            try evaluator.evaluate(ArmEvaluationInput(mergeConfig: config, validationLines: Array(lines[s.firstLine..<s.firstLine + s.lineCount])))
        }
        XCTAssertEqual(parts.reduce(ConfusionTally(), +), whole)
        XCTAssertEqual(whole.total, 40)
        XCTAssertEqual(try evaluator.evaluate(ArmEvaluationInput(mergeConfig: config, validationLines: lines)), whole, "deterministic")
        XCTAssertThrowsError(try evaluator.evaluate(ArmEvaluationInput(mergeConfig: config, validationLines: ["{\"label\":\"maybe\"}"])))
        XCTAssertThrowsError(try ArmEvaluatorRegistry.standard.evaluator(named: "nope"))
    }

    func testSubsetWireForm() throws {
        XCTAssertEqual(MergeArmWire.encode(.attention), "attention")
        let filtered = ParameterSubset(.all, exclude: [NamePattern(substring: "layer.0.")])
        XCTAssertEqual(try MergeArmWire.decodeSubset(MergeArmWire.encode(filtered)), filtered)
        XCTAssertThrowsError(try MergeArmWire.decodeSubset("{broken"))
    }
}
