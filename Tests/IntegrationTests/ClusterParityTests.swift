import Foundation
@testable import Fusion
@testable import Guards
@testable import Runtime
import TestHelpers
@testable import Training
import XCTest

/// The cluster's merge search with the real classifier evaluator matches `uniguard merge-search`: with one arm in
/// flight the cluster samples the same arms and gets the same F1s as `LocalMergeSearch` with the same seed, even
/// though each arm's validation set is split into shards scored by different worker processes.
final class ClusterParityTests: XCTestCase {
    private var cluster: TestCluster?

    override func tearDown() {
        cluster?.shutdown()
        cluster = nil
    }

    static let safeWords = TestSupport.safeWords
    static let unsafeWords = TestSupport.unsafeWords

    func testClusterSearchMatchesLocalSearch() throws { try parity(killCoordinatorAfterArms: nil) }

    /// kill -9 the coordinator after two arms and restart it: the resumed job still tries the very arms the
    /// local search tries, with the same F1s (completed arms kept, the one in flight re-issued, not re-sampled).
    func testCoordinatorKilledMidJobStillMatchesLocalSearch() throws { try parity(killCoordinatorAfterArms: 2) }

    private func parity(killCoordinatorAfterArms kill: Int?) throws {
        let c = try TestCluster(name: kill == nil ? "parity" : "parity-kill")
        cluster = c
        let root = URL(fileURLWithPath: c.root)
        let base = try TestSupport.tinyBase(in: root.appendingPathComponent("base"))
        // Two guards, briefly trained with different seeds and noisy labels, so arms differ in F1.
        for seed in [1, 2] as [UInt64] {
            let model = try GuardModel.fromBase(base, metadata: GuardMetadata(policy: "t", instruction: "test policy",
                                                                              inputFormat: .prompt, head: .mean, maxLength: 16), seed: seed)
            var options = TrainingOptions()
            options.epochs = 1
            options.batch = 8
            options.lr = 2e-3
            options.seed = seed
            try TaskGuardTrainer(model: model, options: options).train(examples(24, seed: seed, noise: 0.3))
            try model.save(to: root.appendingPathComponent("guard-\(seed)"))
        }
        var lines = examples(40, seed: 11, noise: 0.25).map {
            "{\"policy\":\"t\",\"prompt\":\"\($0.text)\",\"label\":\"\($0.label == 1 ? "unsafe" : "safe")\",\"source\":\"test\"}"
        }
        lines.insert("{\"policy\":\"other\",\"prompt\":\"not this policy\",\"label\":\"unsafe\",\"source\":\"test\"}", at: 7)
        try (lines.joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("val.jsonl"), atomically: true, encoding: .utf8)
        let common = """
            policy: t
            candidates: [guard-*]
            validation: val.jsonl
            methods: [linear, slerp]
            subsets: [all, attention]
            strategy: thompson
            iterations: 6
            seed: 3
            base_model: \(base.path)
            """
        try common.write(toFile: "\(c.root)/local.yml", atomically: true, encoding: .utf8)
        try (common + "\nbatch: 1\nvalidation_shards: 3\n").write(toFile: "\(c.root)/cluster.yml", atomically: true, encoding: .utf8)

        let local = try LocalMergeSearch(spec: try MergeSearchSpecParser(.localRun).load(path: "\(c.root)/local.yml"))
        let expected = try local.run(strategy: .thompson).engine
        print("local merge-search F1s: \(expected.history.map(\.f1)), best \(expected.best!.f1)")
        XCTAssertGreaterThan(Set(expected.history.map(\.f1)).count, 2, "arms differ, so matching them means something")

        let first = try c.startCoordinator()
        try c.startWorker("p1")
        try c.startWorker("p2")
        try waitUntil("two workers", timeout: 15) { try c.workerIDs().count == 2 }
        do {
            let job = try c.submit("\(c.root)/cluster.yml")
            if let kill {
                try c.waitForArms(job, atLeast: kill, timeout: 60)
                first.kill9()
                try c.startCoordinator(bind: c.endpoint)
            }
            let finished = try c.waitForJob(job, timeout: 120)
            assertCompleteHistory(finished, iterations: 6)
            let history = (finished["history"] as? [[String: Any]] ?? []).sorted { ($0["iteration"] as? Int ?? 0) < ($1["iteration"] as? Int ?? 0) }
            for (record, row) in zip(expected.history, history) {
                XCTAssertEqual(row["arm"] as? Int, record.arm.rawValue)
                XCTAssertEqual(row["method"] as? String, record.method.rawValue)
                XCTAssertEqual(row["subset"] as? String, record.subset.description)
                let weights = row["weights"] as? [Double] ?? []
                XCTAssertEqual(weights.count, record.weights.count)
                for (a, b) in zip(weights, record.weights) { XCTAssertEqual(a, b, accuracy: 1e-12) }
                XCTAssertEqual(row["f1"] as? Double ?? -1, record.f1, accuracy: 1e-12, "arm \(record.arm): sharded F1 = whole-file F1")
            }
            XCTAssertEqual(finished["best_f1"] as? Double ?? -1, expected.best!.f1, accuracy: 1e-12)
            let workers = Set(history.flatMap { $0["workers"] as? [String] ?? [] })
            XCTAssertEqual(workers, ["p1", "p2"], "shards were spread over both workers")
            let exported = try XCTUnwrap(finished["export_path"] as? String)
            let meta = try GuardMetadata.load(directory: URL(fileURLWithPath: exported))
            XCTAssertEqual(meta.validationF1 ?? -1, expected.best!.f1, accuracy: 1e-12)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// Word-bag prompts; `noise` of them mix words from both classes, so no model is perfect.
    private func examples(_ n: Int, seed: UInt64, noise: Double) -> [TaskGuardTrainer.Example] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { i in
            let unsafe = i % 2 == 1
            let mixed = rng.nextUnit() < noise
            let words = (0..<4).map { k -> String in
                let pool = (mixed && k % 2 == 0) != unsafe ? Self.unsafeWords : Self.safeWords
                return pool[Int(rng.next() % UInt64(pool.count))]
            }
            return .init(text: words.joined(separator: " ") + " please", label: unsafe ? 1 : 0)
        }
    }
}
