@testable import Fusion
import XCTest

/// Thompson sampling on a synthetic reward (F1 = 0.9 - distance of the weights from a hidden optimum, minus
/// 0.1 off the best subset): it learns, beats random search, and replays exactly from its seed.
final class SearchThompsonTests: XCTestCase {
    let reward = SyntheticReward.standard
    let seeds = 0..<20

    func runs(_ kind: SearchStrategyKind, iterations: Int) throws -> [[Double]] {
        try seeds.map { seed in
            var s = try MergeSearch(space: SyntheticReward.space(), strategy: kind, seed: UInt64(seed))
            return try reward.run(&s, iterations: iterations)
        }
    }

    func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }

    func testThompsonImprovesOverIterations() throws {
        let f = try runs(.thompson, iterations: 150)
        let early = mean(f.map { mean(Array($0.prefix(30))) })
        let late = mean(f.map { mean(Array($0.suffix(30))) })
        print("thompson: mean F1 of asks 1-30 \(early), 121-150 \(late)")
        XCTAssertGreaterThan(late, early + 0.03, "later arms are better on average")
        // Best so far after 150 iterations is above what it was after 10.
        XCTAssertGreaterThan(mean(f.map { $0.max()! }), mean(f.map { $0.prefix(10).max()! }) + 0.02)
    }

    func testThompsonBeatsRandomSearchOnAverage() throws {
        let t = mean(try runs(.thompson, iterations: 150).map { $0.max()! })
        let r = mean(try runs(.random, iterations: 150).map { $0.max()! })
        print("best F1 after 150: thompson \(t), random \(r)")
        XCTAssertGreaterThan(t, r)
    }

    func testPosteriorsMoveTowardsTheOptimum() throws {
        var implied0 = 0.0, subsetMean = 0.0
        for seed in seeds {
            var s = try MergeSearch(space: SyntheticReward.space(), strategy: .thompson, seed: UInt64(seed))
            _ = try reward.run(&s, iterations: 150)
            guard case .thompson(let t) = s.strategy else { return XCTFail("not thompson") }
            implied0 += t.impliedWeights[0] / Double(seeds.count)
            // The best subset (attention) has the highest posterior mean in most runs.
            if t.subsets.map(\.mean).enumerated().max(by: { $0.element < $1.element })?.offset == reward.bestSubset { subsetMean += 1 }
        }
        XCTAssertGreaterThan(implied0, 1.0 / 3.0 + 0.05, "model 0 (optimum weight 0.6) gains weight")
        XCTAssertGreaterThanOrEqual(subsetMean / Double(seeds.count), 0.5, "the best subset usually leads")
    }

    func testSameSeedSameSearchDifferentSeedDifferentSearch() throws {
        for kind in SearchStrategyKind.allCases {
            var a = try MergeSearch(space: SyntheticReward.space(), strategy: kind, seed: 9)
            var b = try MergeSearch(space: SyntheticReward.space(), strategy: kind, seed: 9)
            var c = try MergeSearch(space: SyntheticReward.space(), strategy: kind, seed: 10)
            XCTAssertEqual(try reward.run(&a, iterations: 40), try reward.run(&b, iterations: 40), kind.rawValue)
            XCTAssertEqual(a.history, b.history, kind.rawValue)
            _ = try reward.run(&c, iterations: 40)
            XCTAssertNotEqual(a.history.map(\.weights), c.history.map(\.weights), kind.rawValue)
        }
    }

    func testSuccessRuleIsBeatingTheBestKnownWhenTheArmWasProposed() throws {
        var options = SearchOptions()
        options.baselineF1 = 0.5
        var s = try MergeSearch(space: SyntheticReward.space(), strategy: .thompson, seed: 1, options: options)
        let a = s.ask(), b = s.ask(), c = s.ask()
        XCTAssertFalse(try s.tell(a.id, f1: 0.4).success, "below the baseline")
        XCTAssertTrue(try s.tell(b.id, f1: 0.7).success)
        XCTAssertTrue(try s.tell(c.id, f1: 0.6).success, "beat the baseline it was proposed against")
        let d = s.ask()
        XCTAssertFalse(try s.tell(d.id, f1: 0.7).success, "ties do not count")
        guard case .thompson(let t) = s.strategy else { return XCTFail() }
        let chosen = s.space.subsets.firstIndex(of: b.subset)!
        XCTAssertGreaterThanOrEqual(t.subsets[chosen].alpha, 2, "the subset of the improving arm gained α")
        XCTAssertEqual(t.subsets.map { $0.alpha + $0.beta - 2 }.reduce(0, +), 4, "one unit per result")
    }
}
