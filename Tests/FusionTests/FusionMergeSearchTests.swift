@testable import Fusion
@testable import Guards
import TestHelpers
@testable import Training
import XCTest

/// Local merge search over tiny TaskGuards: runs, is deterministic per seed, exports a loadable model.
final class FusionMergeSearchTests: XCTestCase {
    /// Two tiny guards trained briefly with different seeds, a validation file, and a search config.
    func fixture(iterations: Int = 4, strategy: String = "thompson") throws -> (MergeSearchSpec, URL) {
        let base = try TestSupport.tinyBase()
        let root = TestSupport.tempDir()
        for seed in [1, 2] as [UInt64] {
            let m = try GuardModel.fromBase(base, metadata: GuardMetadata(policy: "t", instruction: "test policy", inputFormat: .prompt, head: .mean, maxLength: 16), seed: seed)
            var o = TrainingOptions()
            o.epochs = 2; o.batch = 8; o.lr = 3e-3; o.seed = seed
            try TaskGuardTrainer(model: m, options: o).train(TestSupport.tinyExamples(32, seed: seed))
            try m.save(to: root.appendingPathComponent("guard-\(seed)"))
        }
        let val = TestSupport.tinyExamples(24, seed: 11).map { "{\"policy\":\"t\",\"prompt\":\"\($0.text)\",\"label\":\"\($0.label == 1 ? "unsafe" : "safe")\",\"source\":\"test\"}" }
        try (val.joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("val.jsonl"), atomically: true, encoding: .utf8)
        let yaml = """
        policy: t
        candidates: [guard-*]
        validation: val.jsonl
        methods: [linear, slerp]
        subsets: [all, attention]
        strategy: \(strategy)
        iterations: \(iterations)
        seed: 3
        base_model: \(base.path)
        """
        let path = root.appendingPathComponent("search.yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return (try MergeSearchSpecParser(.localRun).load(path: path), root)
    }

    func testSearchIsDeterministicAndExportsALoadableModel() throws {
        let (cfg, root) = try fixture()
        XCTAssertEqual(cfg.candidates.count, 2)
        let a = try LocalMergeSearch(spec: cfg)
        XCTAssertEqual(a.ranking.kept.count, 2)
        XCTAssertEqual(a.ranking.scores.map(\.path).sorted(), cfg.candidates)
        let s1 = try a.run(strategy: .thompson), s2 = try a.run(strategy: .thompson)
        XCTAssertEqual(s1.history.count, 4)
        XCTAssertEqual(s1.history.map(\.weights), s2.history.map(\.weights))
        XCTAssertEqual(s1.history.map(\.f1), s2.history.map(\.f1))
        for r in s1.history { XCTAssertTrue((0...1).contains(r.f1)); XCTAssertEqual(r.weights.reduce(0, +), 1, accuracy: 1e-9) }
        let out = root.appendingPathComponent("best").path
        try s1.exportBest(to: out)
        let best = try GuardModel.load(URL(fileURLWithPath: out))
        let bestF1 = try XCTUnwrap(s1.best?.f1)
        XCTAssertEqual(best.metadata.validationF1!, bestF1, accuracy: 1e-12)
        // The exported model scores the validation set exactly as the in-memory arm did.
        var c = ConfusionCounts()
        let items = try ValidationLines.items(a.validationLines, policy: "t", source: cfg.validation)
        XCTAssertEqual(items.count, a.ranking.sampleCount)
        let scores = try best.scores(inputs: items.map(\.prompt))
        for (s, it) in zip(scores, items) { c.add(predictedUnsafe: s >= 0.5, actuallyUnsafe: it.unsafe) }
        XCTAssertEqual(c.f1, bestF1, accuracy: 1e-12)
    }

    func testConfigErrorsNameTheKey() throws {
        let (_, root) = try fixture(iterations: 1)
        let path = root.appendingPathComponent("bad.yml").path
        for (yaml, key) in [("candidates: [guard-*]\nvalidation: v.jsonl\nstrategy: greedy\n", "strategy"),
                            ("candidates: [guard-*]\nvalidation: v.jsonl\nmethods: [blend]\n", "methods"),
                            ("candidates: [guard-*]\nvalidation: v.jsonl\niterations: many\n", "iterations"),
                            ("candidates: [guard-*]\nvalidation: v.jsonl\ncolour: red\n", "colour"),
                            ("candidates: [nothing-*]\nvalidation: v.jsonl\n", "candidates")] {
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try MergeSearchSpecParser(.localRun).load(path: path)) { e in
                XCTAssertTrue("\(e)".contains("'\(key)'") && "\(e)".contains(path), "\(e)")
            }
        }
    }
}
