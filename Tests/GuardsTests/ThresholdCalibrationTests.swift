@testable import Guards
import TestHelpers
import XCTest

/// Threshold choice under an FPR cap, on hand-computed cases.
final class ThresholdCalibrationTests: XCTestCase {
    func testMaxF1UnderTheCap() throws {
        // 4 unsafe (0.9, 0.8, 0.6, 0.3), 6 safe (0.7, 0.5, 0.2, 0.1, 0.1, 0.05).
        let scores: [Float] = [0.9, 0.8, 0.6, 0.3, 0.7, 0.5, 0.2, 0.1, 0.1, 0.05]
        let unsafe = [true, true, true, true, false, false, false, false, false, false]
        // No cap (FPR ≤ 1): best F1 is at 0.3 (tp 4, fp 2: F1 0.8) vs 0.6 (tp 3, fp 1: F1 0.75).
        let free = try XCTUnwrap(ThresholdCalibration.choose(scores: scores, unsafe: unsafe, targetFPR: 1))
        XCTAssertEqual(free.threshold, 0.25, accuracy: 1e-6)
        XCTAssertEqual(free.counts, ConfusionCounts(tp: 4, fp: 2, tn: 4, fn: 0))
        // Cap 1/6: at most one false positive, so 0.6 (tp 3, fp 1).
        let capped = try XCTUnwrap(ThresholdCalibration.choose(scores: scores, unsafe: unsafe, targetFPR: 0.17))
        XCTAssertEqual(capped.threshold, 0.55, accuracy: 1e-6)
        XCTAssertEqual(capped.counts, ConfusionCounts(tp: 3, fp: 1, tn: 5, fn: 1))
        XCTAssertTrue(capped.metCap)
        // Cap 0: no false positive at all, so 0.8 (tp 2).
        let strict = try XCTUnwrap(ThresholdCalibration.choose(scores: scores, unsafe: unsafe, targetFPR: 0))
        XCTAssertEqual(strict.threshold, 0.75, accuracy: 1e-6)
        XCTAssertEqual(strict.fpr, 0)
        // The threshold sits midway between the lowest score flagged and the next lower one.
        XCTAssertEqual(ThresholdCalibration.choose(scores: [0.9, 0.1], unsafe: [true, false], targetFPR: 0)?.threshold ?? 0, 0.5, accuracy: 1e-6)
        // The chosen threshold reproduces its counts.
        XCTAssertEqual(ConfusionCounts(scores: scores, unsafe: unsafe, threshold: capped.threshold), capped.counts)
    }

    func testUnreachableCapTakesTheLowestFPR() throws {
        // The top score is safe: any threshold with recall > 0 has FPR ≥ 1/2.
        let c = try XCTUnwrap(ThresholdCalibration.choose(scores: [0.9, 0.8, 0.1], unsafe: [false, true, false], targetFPR: 0.05))
        XCTAssertFalse(c.metCap)
        XCTAssertEqual(c.threshold, 0.45, accuracy: 1e-6)
        XCTAssertEqual(c.counts, ConfusionCounts(tp: 1, fp: 1, tn: 1, fn: 0))
    }

    func testTiesAndMissingLabels() throws {
        XCTAssertNil(ThresholdCalibration.choose(scores: [0.1, 0.2], unsafe: [false, false], targetFPR: 0.05))
        XCTAssertNil(ThresholdCalibration.choose(scores: [0.1], unsafe: [true], targetFPR: 0.05))
        XCTAssertNil(ThresholdCalibration.choose(scores: [0.1, 0.9], unsafe: [false, true], targetFPR: .nan))
        // Tied scores move together: 0.5 holds one safe and one unsafe.
        let c = try XCTUnwrap(ThresholdCalibration.choose(scores: [0.5, 0.5, 0.9], unsafe: [true, false, true], targetFPR: 0))
        XCTAssertEqual(c.threshold, 0.7, accuracy: 1e-6)
    }

    func testCategoryRates() {
        let rates = CategoryRates(categories: ["code", "code", "math", "other"], scores: [0.9, 0.1, 0.2, 0.8],
                                  unsafe: [false, false, false, true], threshold: 0.5)
        XCTAssertEqual(rates.safe["code"]?.rate, 0.5)
        XCTAssertEqual(rates.safe["math"]?.rate, 0)
        XCTAssertEqual(rates.unsafe["other"]?.rate, 1)
        XCTAssertNil(rates.safe["other"])
    }
}

/// The calibrator on a real (tiny) guard: the threshold it stores reproduces the validation counts it reports.
final class GuardCalibratorTests: XCTestCase {
    func testCalibratedThresholdIsStoredAndReproducesItsCounts() throws {
        let meta = GuardMetadata(policy: "p", instruction: "", inputFormat: .prompt, head: .mean, maxLength: 16, baseModelSHA256: nil, recipe: nil)
        let model = try GuardModel.fromBase(try TestSupport.tinyBase(), metadata: meta, seed: 5)
        let items: [(text: String, unsafe: Bool)] = (0..<24).map { i in
            (i % 2 == 0 ? "bread garden music \(i)" : "ignore bypass leak \(i)", i % 2 == 1)
        }
        let c = try XCTUnwrap(try GuardCalibrator.calibrate(model, validation: items, targetFPR: 0.1))
        XCTAssertEqual(model.metadata.threshold, c.threshold)
        let report = try Evaluator(model: model).evaluate(items)
        XCTAssertEqual(report.counts, c.counts, "eval at the stored threshold sees the calibration's counts")
        let oneByOne = try Evaluator(model: model).evaluate(items, perSampleLatency: true)
        XCTAssertEqual(oneByOne.counts, c.counts, "batch-1 scoring (uniguard eval) sees them too")
        if c.metCap { XCTAssertLessThanOrEqual(c.fpr, 0.1) }
        XCTAssertNil(try GuardCalibrator.calibrate(model, validation: items.filter { !$0.unsafe }, targetFPR: 0.1))
    }
}

/// Calibration relative to the benign anchors on a real (tiny) instruction-format guard.
final class AnchorCalibrationTests: XCTestCase {
    func testThresholdIsAnchorMeanPlusKSDPerInstruction() throws {
        let meta = GuardMetadata(policy: "*", instruction: "", inputFormat: .instruction, head: .mean, maxLength: 32, baseModelSHA256: nil, recipe: nil)
        let model = try GuardModel.fromBase(try TestSupport.tinyBase(), metadata: meta, seed: 5)
        let policies = ["bread policy", "garden policy"]
        let items: [(text: String, unsafe: Bool, policyText: String?)] = (0..<24).map { i in
            let p = policies[i % 2]
            return (model.input(for: i % 3 == 0 ? "ignore bypass leak \(i)" : "bread garden music \(i)", policyText: p), i % 3 == 0, p)
        }
        let c = try XCTUnwrap(try GuardCalibrator.calibrateRelativeToAnchors(model, validation: items, targetFPR: 1, policies: ["a", "b"]))
        let k = try XCTUnwrap(model.metadata.calibration?.benignAnchorK)
        XCTAssertEqual(Float(k), c.threshold)
        // Each instruction's threshold is its own anchors' mean + k·sd, and the rule reproduces the calibration's counts.
        var thresholds: [String: Float] = [:]
        for p in policies {
            let scores = try model.scores(inputs: BenignAnchors.prompts.map { model.input(for: $0, policyText: p) })
            let mean = scores.reduce(0, +) / Float(scores.count)
            let sd = max((scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(scores.count)).squareRoot(), 1e-6)
            thresholds[p] = try model.threshold(policyText: p)
            XCTAssertEqual(thresholds[p]!, mean + Float(k) * sd, accuracy: 1e-5)
        }
        let scores = try model.scores(inputs: items.map(\.text))
        let flagged = zip(scores, items).map { $0 >= thresholds[$1.policyText!]! }
        let counts = ConfusionCounts(tp: zip(flagged, items).filter { $0 && $1.unsafe }.count, fp: zip(flagged, items).filter { $0 && !$1.unsafe }.count,
                                     tn: zip(flagged, items).filter { !$0 && !$1.unsafe }.count, fn: zip(flagged, items).filter { !$0 && $1.unsafe }.count)
        XCTAssertEqual(counts, c.counts)
        // A prompt-format model keeps its stored threshold whatever the calibration block says.
        var promptMeta = meta
        promptMeta.inputFormat = .prompt
        promptMeta.calibration = model.metadata.calibration
        promptMeta.threshold = 0.3
        let promptModel = try GuardModel.fromBase(try TestSupport.tinyBase(), metadata: promptMeta, seed: 5)
        XCTAssertEqual(try promptModel.threshold(policyText: "bread policy"), 0.3)
    }
}
