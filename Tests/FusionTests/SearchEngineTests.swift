@testable import EncoderModel
import Foundation
@testable import Fusion
import XCTest

/// The ask/tell engine: arms in flight, out-of-order results, errors, persistence, history and every strategy.
final class SearchEngineTests: XCTestCase {
    let reward = SyntheticReward.standard

    func testManyArmsInFlightReportedOutOfOrder() throws {
        for kind in SearchStrategyKind.allCases {
            var s = try MergeSearch(space: SyntheticReward.space(), strategy: kind, seed: 3)
            var ids = Set<ArmID>()
            for _ in 0..<10 {
                let batch = (0..<4).map { _ in s.ask() }
                XCTAssertEqual(s.inFlight.count, 4)
                for arm in batch {
                    XCTAssertTrue(ids.insert(arm.id).inserted, "ids are unique")
                    XCTAssertEqual(arm.weights.reduce(0, +), 1, accuracy: 1e-9)
                    XCTAssertTrue(arm.weights.allSatisfy { $0 >= 0 })
                }
                for arm in batch.reversed() { try s.tell(arm.id, f1: reward.f1(arm, s.space), seconds: 1) }
            }
            XCTAssertEqual(s.history.count, 40, kind.rawValue)
            XCTAssertEqual(s.history.map(\.iteration), Array(1...40))
            XCTAssertEqual(s.best?.f1, s.history.map(\.f1).max())
            XCTAssertTrue(s.inFlight.isEmpty)
        }
    }

    func testUnknownDuplicateAndBadResultsAreErrors() throws {
        var s = try MergeSearch(space: SyntheticReward.space(), strategy: .thompson, seed: 1)
        let arm = s.ask()
        XCTAssertThrowsError(try s.tell(ArmID(99), f1: 0.5)) { XCTAssertEqual($0 as? SearchError, .unknownArm(ArmID(99))) }
        XCTAssertThrowsError(try s.tell(arm.id, f1: 1.5)) { XCTAssertEqual($0 as? SearchError, .badReward(arm.id, 1.5)) }
        XCTAssertThrowsError(try s.tell(arm.id, f1: .nan))
        try s.tell(arm.id, f1: 0.5)
        XCTAssertThrowsError(try s.tell(arm.id, f1: 0.5)) { XCTAssertEqual($0 as? SearchError, .unknownArm(arm.id)) }
        let lost = s.ask()
        try s.abandon(lost.id)
        XCTAssertTrue(s.inFlight.isEmpty)
    }

    func testBadSpacesAreRejected() {
        XCTAssertThrowsError(try MergeSearch(space: SearchSpace(candidates: []), strategy: .random, seed: 0))
        XCTAssertThrowsError(try MergeSearch(space: SearchSpace(candidates: ["a"], methods: [.ties]), strategy: .random, seed: 0)) {
            XCTAssertTrue("\($0)".contains("base model"))
        }
        XCTAssertThrowsError(try MergeSearch(space: SearchSpace(candidates: ["a"], methods: [.slerp]), strategy: .random, seed: 0))
    }

    func testStateRoundTripsThroughJSONAndResumesIdentically() throws {
        for kind in SearchStrategyKind.allCases {
            var s = try MergeSearch(space: SyntheticReward.space(methods: [.linear, .ties], instructions: 2), strategy: kind, seed: 4)
            _ = try reward.run(&s, iterations: 12)
            let inFlight = s.ask()
            let data = try JSONEncoder().encode(s)
            var restored = try JSONDecoder().decode(MergeSearch.self, from: data)
            XCTAssertEqual(restored.inFlight, [inFlight])
            try s.tell(inFlight.id, f1: 0.6)
            try restored.tell(inFlight.id, f1: 0.6)
            XCTAssertEqual(try reward.run(&s, iterations: 10), try reward.run(&restored, iterations: 10), kind.rawValue)
            XCTAssertEqual(s.history, restored.history)
        }
    }

    func testInstructionAndMethodAreChosenWhenThereIsMoreThanOne() throws {
        var s = try MergeSearch(space: SyntheticReward.space(methods: [.linear, .ties, .dareTies], instructions: 3), strategy: .random, seed: 2)
        let arms = (0..<60).map { _ in s.ask() }
        XCTAssertEqual(Set(arms.compactMap(\.instruction)), [0, 1, 2])
        XCTAssertEqual(Set(arms.map(\.method)), [.linear, .ties, .dareTies])
        XCTAssertEqual(arms.first { $0.method == .ties }?.parameters["density"], 0.5, "method defaults filled in")
        var single = try MergeSearch(space: SyntheticReward.space(), strategy: .random, seed: 2)
        XCTAssertNil(single.ask().instruction)
    }

    func testUCBTriesEveryDiscretisedArmOnceBeforeRepeating() throws {
        var options = SearchOptions()
        options.ucbResolution = 2
        let space = SearchSpace(candidates: ["a", "b"], subsets: [.all, .attention])
        var s = try MergeSearch(space: space, strategy: .ucb, seed: 5, options: options)
        guard case .ucb(let u) = s.strategy else { return XCTFail() }
        XCTAssertEqual(u.counts.count, 6) // weights {1,0}, {.5,.5}, {0,1} x 2 subsets
        // All six at once in flight: six different arms.
        let batch = (0..<6).map { _ in s.ask() }
        XCTAssertEqual(Set(batch.map { "\($0.weights)\($0.subset)" }).count, 6)
        for arm in batch { try s.tell(arm.id, f1: arm.subset == .attention && arm.weights[0] == 0.5 ? 0.9 : 0.5) }
        // Then the clearly best arm is pulled most.
        for _ in 0..<30 { let a = s.ask(); try s.tell(a.id, f1: a.subset == .attention && a.weights[0] == 0.5 ? 0.9 : 0.5) }
        let top = Dictionary(grouping: s.history.suffix(30), by: { "\($0.weights)\($0.subset)" }).max { $0.value.count < $1.value.count }!
        XCTAssertEqual(top.key, "\([0.5, 0.5])attention")
    }

    func testUCBGridShrinksToStayUnderTheArmLimit() throws {
        var options = SearchOptions()
        options.ucbMaxArms = 50
        let s = try MergeSearch(space: SyntheticReward.space(), strategy: .ucb, seed: 0, options: options)
        guard case .ucb(let u) = s.strategy else { return XCTFail() }
        XCTAssertLessThanOrEqual(u.counts.count, 50)
        XCTAssertEqual(u.resolution, 3) // C(5,2) = 10 weight vectors x 4 subsets = 40
        XCTAssertEqual(UCBStrategy.weightGrid(3, 3).count, 10)
    }

    func testEpsilonGreedyExploitsAroundTheBestArm() throws {
        var options = SearchOptions()
        options.epsilon = 0
        var s = try MergeSearch(space: SyntheticReward.space(), strategy: .epsilonGreedy, seed: 8, options: options)
        let first = s.ask()
        try s.tell(first.id, f1: 0.8)
        for _ in 0..<10 {
            let a = s.ask()
            XCTAssertEqual(a.subset, first.subset, "greedy steps keep the best arm's subset")
            XCTAssertLessThan(zip(a.weights, first.weights).map { abs($0 - $1) }.max()!, 0.6)
            try s.tell(a.id, f1: 0.1)
        }
    }

    func testHistoryJSONLRoundTripAndAppend() throws {
        var s = try MergeSearch(space: SyntheticReward.space(), strategy: .thompson, seed: 6)
        _ = try reward.run(&s, iterations: 5)
        let dir = MergeFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("history.jsonl").path
        try SearchHistory.write(Array(s.history.prefix(3)), to: path)
        for r in s.history.suffix(2) { try SearchHistory.append(r, to: path) }
        XCTAssertEqual(try SearchHistory.read(path), s.history)
        let first = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")[0]
        for key in ["\"arm\":1", "\"f1\":", "\"method\":\"linear\"", "\"seconds\":", "\"subset\":", "\"weights\":["] {
            XCTAssertTrue(first.contains(key), "\(key) in \(first)")
        }
        XCTAssertEqual(SearchHistory.bestSoFar(s.history), s.history.map(\.bestF1))
    }

    func testArmBecomesAMergeConfigThatMerges() throws {
        let space = SearchSpace(candidates: [MergeFixtures.model("m1"), MergeFixtures.model("m2")],
                                methods: [.linear, .ties, .slerp], subsets: [.attention], baseModel: MergeFixtures.model("m0"))
        for method in space.methods {
            let arm = MergeArm(id: ArmID(1), method: method, weights: [0.3, 0.7], subset: .attention,
                               parameters: space.parameters(for: method))
            let config = try arm.mergeConfig(space)
            XCTAssertEqual(config.subset, .attention)
            let sink = InMemoryTensorSink()
            try ModelMerger.merge(config, into: sink)
            // Outside the subset the top-1 candidate (m1) is copied.
            let m1 = try SafetensorsFile(path: MergeFixtures.model("m1") + "/model.safetensors")
            XCTAssertEqual(sink.tensors["encoder.layer.0.output.dense.weight"]!.array, try m1.tensor("encoder.layer.0.output.dense.weight").array, "\(method)")
            if method == .slerp {
                XCTAssertEqual(config.baseModel, MergeFixtures.model("m2"), "slerp starts from the heavier model")
                XCTAssertEqual(config.parameters["t"], .number(0.3))
            }
        }
    }

    func testPosteriorLabelsForStatus() throws {
        let s = try MergeSearch(space: SyntheticReward.space(methods: [.linear, .ties]), strategy: .thompson, seed: 0)
        let labels = s.posteriors.map(\.label)
        XCTAssertEqual(labels.first, "weight:m-a")
        XCTAssertTrue(labels.contains("subset:attention"))
        XCTAssertTrue(labels.contains("method:ties"))
    }
}
