@testable import Fusion
import XCTest

/// The merge search as the paper runs it (issue 13): the first arm weighs the candidates by their own F1, an arm
/// succeeds only by beating the best single candidate, and credit is measured against the reference the arm was
/// proposed from, not the one when its result arrives.
final class SearchPaperRulesTests: XCTestCase {
    func search(_ options: SearchOptions, strategy: SearchStrategyKind = .thompson) throws -> MergeSearch {
        try MergeSearch(space: SyntheticReward.space(), strategy: strategy, seed: 7, options: options)
    }

    func testTheFirstArmWeighsTheCandidatesByTheirF1ForEveryStrategy() throws {
        var options = SearchOptions()
        options.candidateF1 = [0.8, 0.6, 0.2]
        for kind in SearchStrategyKind.allCases {
            var s = try search(options, strategy: kind)
            let first = s.ask()
            XCTAssertEqual(first.weights[0], 0.5, accuracy: 1e-12, "\(kind)")
            XCTAssertEqual(first.weights[1], 0.375, accuracy: 1e-12, "\(kind)")
            XCTAssertEqual(first.weights[2], 0.125, accuracy: 1e-12, "\(kind)")
            // Only the first: the second arm (still in flight with the first) is the strategy's own.
            XCTAssertNotEqual(s.ask().weights, first.weights, "\(kind)")
        }
        // Unusable F1s (wrong count, all zero, NaN) leave the first arm to the strategy.
        for bad in [[0.5, 0.5], [0, 0, 0], [0.5, .nan, 0.5]] {
            var o = SearchOptions()
            o.candidateF1 = bad
            var s = try search(o)
            var plain = try search(SearchOptions())
            XCTAssertEqual(s.ask().weights, plain.ask().weights, "\(bad)")
        }
    }

    func testTheFirstArmSucceedsOnlyByBeatingTheBestSingleCandidate() throws {
        var options = SearchOptions()
        options.baselineF1 = 0.8
        var s = try search(options)
        let a = s.ask()
        XCTAssertFalse(try s.tell(a.id, f1: 0.8).success, "equal to the best single candidate is no success")
        let b = s.ask()
        XCTAssertTrue(try s.tell(b.id, f1: 0.81).success)
        // Without a baseline the first result succeeds whatever it is.
        var open = try search(SearchOptions())
        let c = open.ask()
        XCTAssertTrue(try open.tell(c.id, f1: 0.1).success)
    }

    func testCreditIsMeasuredAgainstTheReferenceAtProposal() throws {
        var options = SearchOptions()
        options.baselineF1 = 0.7
        var s = try search(options)
        let a = s.ask(), b = s.ask()          // both proposed against 0.7
        XCTAssertTrue(try s.tell(a.id, f1: 0.9).success)
        // b arrives after a raised the best to 0.9, but it beat what it was proposed from.
        let rb = try s.tell(b.id, f1: 0.85)
        XCTAssertTrue(rb.success)
        XCTAssertEqual(rb.bestF1, 0.9, "the best stays the best")
        XCTAssertEqual(s.best?.arm, a.id)
        // An arm proposed after a's result must beat 0.9.
        let c = s.ask()
        XCTAssertFalse(try s.tell(c.id, f1: 0.88).success)
    }

    func testAStoredPendingArmWithoutAReferenceStillDecodes() throws {
        var options = SearchOptions()
        options.baselineF1 = 0.5
        var s = try search(options)
        _ = s.ask()
        let json = String(decoding: try JSONEncoder().encode(s), as: UTF8.self)
        XCTAssertTrue(json.contains("\"reference\":0.5"), json)
        // A search stored before the field existed (a coordinator upgraded mid-job) still loads.
        let old = json.replacingOccurrences(of: ",\"reference\":0.5", with: "").replacingOccurrences(of: "\"reference\":0.5,", with: "")
        XCTAssertFalse(old.contains("reference"))
        let decoded = try JSONDecoder().decode(MergeSearch.self, from: Data(old.utf8))
        XCTAssertEqual(decoded.pending.count, 1)
        XCTAssertNil(decoded.pending[0].reference)
    }
}
