@testable import Guards
import XCTest

/// Confusion counts, F1 and ROC AUC on hand-computed cases.
final class EvalMetricsTests: XCTestCase {
    func testCountsAndDerivedMetrics() {
        var c = ConfusionCounts()
        for (p, a) in [(true, true), (true, true), (true, false), (false, true), (false, false), (false, false)] {
            c.add(predictedUnsafe: p, actuallyUnsafe: a)
        }
        XCTAssertEqual(c, ConfusionCounts(tp: 2, fp: 1, tn: 2, fn: 1))
        XCTAssertEqual(c.precision, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(c.recall, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(c.f1, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(c.accuracy, 4.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(c + c, ConfusionCounts(tp: 4, fp: 2, tn: 4, fn: 2))
        XCTAssertEqual(ConfusionCounts().f1, 0)
    }

    func testROCAUCWithTies() {
        XCTAssertEqual(ROCAUC.compute(scores: [0.1, 0.4, 0.35, 0.8], unsafe: [false, false, true, true])!, 0.75, accuracy: 1e-12)
        XCTAssertEqual(ROCAUC.compute(scores: [0.5, 0.5], unsafe: [false, true])!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(ROCAUC.compute(scores: [0.1, 0.9], unsafe: [false, true])!, 1.0, accuracy: 1e-12)
        XCTAssertNil(ROCAUC.compute(scores: [0.1, 0.9], unsafe: [true, true]))
    }

    func testReportSplitsLatencyByClass() {
        let r = EvaluationReport.from(scores: [0.9, 0.2, 0.7], unsafe: [true, false, false], threshold: 0.5, seconds: [1, 2, 4])
        XCTAssertEqual(r.counts, ConfusionCounts(tp: 1, fp: 1, tn: 1, fn: 0))
        XCTAssertEqual(r.secondsPerSafeSample, 3, accuracy: 1e-12)
        XCTAssertEqual(r.secondsPerUnsafeSample, 1, accuracy: 1e-12)
    }
}
