@testable import Fusion
import XCTest

/// The rules that decide a search's results, worked by hand: Thompson's posterior updates and top-k ranking.
final class SearchThompsonRuleTests: XCTestCase {
    /// Three candidates, two subsets, two methods, two instructions, Beta(1, 1) priors.
    func strategy(methods: [MergeMethodKind] = [.linear, .slerp], instructions: Int = 2) -> (ThompsonStrategy, SearchSpace) {
        let space = SearchSpace(candidates: ["a", "b", "c"], methods: methods, subsets: [.all, .attention],
                                instructionCount: instructions)
        return (ThompsonStrategy(space, SearchOptions()), space)
    }

    func assertPosterior(_ p: BetaPosterior, _ alpha: Double, _ beta: Double, _ what: String,
                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(p.alpha, alpha, accuracy: 1e-12, "\(what) α", file: file, line: line)
        XCTAssertEqual(p.beta, beta, accuracy: 1e-12, "\(what) β", file: file, line: line)
    }

    func testSuccessCreditsTheDirectionTheArmMovedAndTheChosenOptions() {
        var (t, space) = strategy()
        // Implied weights are 1/3 each; the arm moved by d = (+1/6, -1/30, -2/15), largest |d| = 1/6, so the
        // credits are 1, 0.2 and 0.8 of a unit: on α for the model that gained weight, on β for the others.
        t.observe(ArmChoice(weights: [0.5, 0.3, 0.2], subset: 1, method: 0, instruction: 1), f1: 0.8, success: true, space, SearchOptions())
        assertPosterior(t.weights[0], 2, 1, "weight a")
        assertPosterior(t.weights[1], 1, 1.2, "weight b")
        assertPosterior(t.weights[2], 1, 1.8, "weight c")
        assertPosterior(t.subsets[0], 1, 1, "subset all")
        assertPosterior(t.subsets[1], 2, 1, "subset attention")
        assertPosterior(t.methods[0], 2, 1, "method linear")
        assertPosterior(t.methods[1], 1, 1, "method slerp")
        assertPosterior(t.instructions[0], 1, 1, "instruction 0")
        assertPosterior(t.instructions[1], 2, 1, "instruction 1")
        XCTAssertEqual(t.impliedWeights[0], (2.0 / 3) / (2.0 / 3 + 1 / 2.2 + 1 / 2.8), accuracy: 1e-12)
    }

    func testFailureChargesTheChosenOptionsAndLeavesTheWeightsAlone() {
        var (t, space) = strategy()
        t.observe(ArmChoice(weights: [0.1, 0.1, 0.8], subset: 0, method: 1, instruction: 0), f1: 0.1, success: false, space, SearchOptions())
        for (i, w) in t.weights.enumerated() { assertPosterior(w, 1, 1, "weight \(i)") }
        assertPosterior(t.subsets[0], 1, 2, "subset all")
        assertPosterior(t.subsets[1], 1, 1, "subset attention")
        assertPosterior(t.methods[1], 1, 2, "method slerp")
        assertPosterior(t.instructions[0], 1, 2, "instruction 0")
    }

    func testASuccessAtTheImpliedWeightsMovesNoWeight() {
        var (t, space) = strategy()
        t.observe(ArmChoice(weights: [0.5, 0.3, 0.2], subset: 1), f1: 0.8, success: true, space, SearchOptions())
        let before = t.weights
        t.observe(ArmChoice(weights: t.impliedWeights, subset: 0), f1: 0.9, success: true, space, SearchOptions())
        XCTAssertEqual(t.weights, before, "no direction, no credit")
        assertPosterior(t.subsets[0], 2, 1, "subset all")
    }

    func testSingleMethodAndInstructionPosteriorsNeverMove() {
        var (t, space) = strategy(methods: [.linear], instructions: 1)
        t.observe(ArmChoice(weights: [0.6, 0.2, 0.2]), f1: 0.9, success: true, space, SearchOptions())
        t.observe(ArmChoice(weights: [0.2, 0.6, 0.2]), f1: 0.1, success: false, space, SearchOptions())
        assertPosterior(t.methods[0], 1, 1, "the only method")
        assertPosterior(t.instructions[0], 1, 1, "the only instruction")
        assertPosterior(t.subsets[0], 2, 2, "subset all: one success, one failure")
    }

    func testEngineSuccessRuleFeedsTheseUpdates() throws {
        // Through the engine: a baseline of 0.5; a, b, c proposed against it: 0.4 (fail), 0.7 (success), 0.6
        // (success: it beat the 0.5 it was proposed from); d proposed after b's result: 0.7 (a tie: fail).
        var options = SearchOptions()
        options.baselineF1 = 0.5
        let space = SearchSpace(candidates: ["a", "b"], methods: [.linear], subsets: [.all])
        var s = try MergeSearch(space: space, strategy: .thompson, seed: 1, options: options)
        let a = s.ask(), b = s.ask(), c = s.ask()
        try s.tell(a.id, f1: 0.4)
        try s.tell(b.id, f1: 0.7)
        try s.tell(c.id, f1: 0.6)
        let d = s.ask()
        try s.tell(d.id, f1: 0.7)
        guard case .thompson(let t) = s.strategy else { return XCTFail("not thompson") }
        assertPosterior(t.subsets[0], 3, 3, "the only subset: 2 successes, 2 failures")
    }

    func testTopKKeepsTheBestByF1WithTiesByPathAndAtLeastTwo() {
        typealias S = CandidateRanking.Score
        let scores = [S(path: "c", f1: 0.8), S(path: "a", f1: 0.9), S(path: "b", f1: 0.8), S(path: "d", f1: 0.7)]
        let (sorted, kept) = CandidateRanking.order(scores, topK: 3)
        XCTAssertEqual(sorted.map(\.path), ["a", "b", "c", "d"])
        XCTAssertEqual(kept, ["a", "b", "c"])
        XCTAssertEqual(CandidateRanking.order(scores, topK: 1).kept, ["a", "b"], "a merge needs two models")
        XCTAssertEqual(CandidateRanking.order(scores, topK: 10).kept, ["a", "b", "c", "d"])
    }
}
