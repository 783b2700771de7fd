import Foundation
@testable import Fusion
import Runtime
import XCTest

/// The one merge-search YAML format: cluster job keys, local keys, defaults and errors that name the key.
final class MergeSearchSpecTests: XCTestCase {
    let job = MergeSearchSpecParser(.clusterJob)
    let local = MergeSearchSpecParser(.localRun)

    /// The key a parse error names.
    func key(_ error: Error) -> String? {
        guard case .badConfig(_, let key, _)? = error as? MergeError else { return nil }
        return key
    }

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
        let spec = try job.parse(yaml: yaml, source: "job.yaml", baseDirectory: "/jobs")
        XCTAssertEqual(spec.name, "demo")
        XCTAssertEqual(spec.candidates, ["/jobs/models/a", "/abs/b"])
        XCTAssertEqual(spec.baseModel, "/jobs/base")
        XCTAssertEqual(spec.methods, [.linear, .ties])
        XCTAssertEqual(spec.subsets.count, 2)
        XCTAssertEqual(spec.subsets[1].kind, .attention)
        XCTAssertEqual(spec.methodParameters["ties"]?["density"], 0.3)
        XCTAssertEqual(spec.strategies, [.ucb])
        XCTAssertEqual(spec.iterations, 9)
        XCTAssertEqual(spec.batch, 2)
        XCTAssertEqual(spec.seed, 5)
        XCTAssertEqual(spec.validation, "/jobs/data/val.jsonl")
        XCTAssertEqual(spec.validationShards, 3)
        XCTAssertEqual(spec.threshold, 0.4)
        XCTAssertEqual(spec.evaluator, "weight-sign")
        XCTAssertEqual(spec.evaluatorOptions["min_ms"], 10)
        XCTAssertEqual(spec.output, "/jobs/out/best")
    }

    /// A local file is a valid job, and both read it the same way (same defaults as `uniguard merge-search`).
    func testALocalFileIsAJobWithTheSameMeaning() throws {
        let yaml = "policy: safety\ncandidates: [a, b]\ntop_k: 2\nstrategies: [random]\niterations: 3\nvalidation: v.jsonl"
        let spec = try job.parse(yaml: yaml, source: "j", baseDirectory: "/d")
        XCTAssertEqual(spec, try local.parse(yaml: yaml, source: "j", baseDirectory: "/d"))
        XCTAssertEqual(spec.policy, "safety")
        XCTAssertEqual(spec.topK, 2)
        XCTAssertEqual(spec.strategies, [.random])
        XCTAssertEqual(spec.methods, [.linear, .ties, .slerp])
        XCTAssertEqual(spec.subsets, [.all, .attention, .attentionOutput, .allButClassifier])
        XCTAssertEqual(spec.baseModel, UniGuardHome.baseModel.path, "ties defaults to the cached base model")
        XCTAssertEqual(spec.evaluator, ArmEvaluatorRegistry.classifier)
        let linear = try job.parse(yaml: yaml + "\nmethods: [linear]\nbase_model: base", source: "j", baseDirectory: "/d")
        XCTAssertNil(linear.baseModel, "the base model only travels when a method needs it")
        XCTAssertThrowsError(try job.parse(yaml: "candidates: [a, b]\nstrategies: [random, ucb]\niterations: 3\nvalidation: v",
                                           source: "j", baseDirectory: "/")) { XCTAssertEqual(key($0), "strategies") }
        XCTAssertEqual(try local.parse(yaml: "candidates: [a, b]\nstrategies: [random, ucb]\nvalidation: v", source: "j",
                                       baseDirectory: "/").strategies, [.random, .ucb])
    }

    func testBadSpecsNameTheKey() {
        let cases: [(String, String)] = [
            ("candidates: [a, b]\niterations: 3\nvalidation: v\nitertions: 4", "itertions"),
            ("kind: pretrain\ncandidates: [a, b]\niterations: 3\nvalidation: v", "kind"),
            ("candidates: [a, b]\niterations: 0\nvalidation: v", "iterations"),
            ("candidates: [a, b]\niterations: 1e12\nvalidation: v", "iterations"),
            ("candidates: [a, b]\niterations: 1000001\nvalidation: v", "iterations"),
            ("candidates: [a, b]\niterations: 2\nvalidation: v\nstrategy: greedy", "strategy"),
            ("candidates: [a, b]\niterations: 2\nvalidation: v\nmethods: [mix]", "methods"),
            ("candidates: [a, b]\niterations: 2\nvalidation: v\nmethods: [ties, ties]", "methods"),
            ("candidates: [a, b]\nvalidation: v\nstrategy: ucb\nstrategies: [ucb]", "strategies"),
            ("candidates: [a, b]\nvalidation: v\nmethod_parameters: {blend: {x: 1}}", "method_parameters"),
            ("candidates: [a, b]\nvalidation: v\nvalidation_shards: 0", "validation_shards"),
            ("candidates: [a]\niterations: 2\nvalidation: v", "candidates"),
            ("iterations: 2\nvalidation: v", "candidates"),
            ("candidates: [a, b]\niterations: 2", "validation"),
            ("[not, a, mapping]", "(document)"),
        ]
        for (yaml, expected) in cases {
            XCTAssertThrowsError(try job.parse(yaml: yaml, source: "j", baseDirectory: "/")) { error in
                XCTAssertEqual(key(error), expected, "\(error)")
            }
        }
    }

    /// Cluster keys are named as such in a local file.
    func testLocalRunRejectsClusterKeys() {
        for k in MergeSearchSpecParser.clusterKeys.keys {
            XCTAssertThrowsError(try local.parse(yaml: "candidates: [a, b]\nvalidation: v\n\(k): 1", source: "s.yml",
                                                 baseDirectory: "/")) { error in
                XCTAssertEqual(key(error), k)
                XCTAssertTrue("\(error)".contains("cluster job") && "\(error)".contains("s.yml"), "\(error)")
            }
        }
    }
}
