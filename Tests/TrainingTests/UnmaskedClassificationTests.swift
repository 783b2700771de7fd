import Foundation
@testable import Guards
@testable import Runtime
import TestHelpers
@testable import Tokenizers
@testable import Training
import XCTest

/// `clsOnUnmasked`: the classification term reads the sequence inference reads, so its gradient does not depend
/// on where the MLM masked; without it, it does (the mismatch this setting removes). Old checkpoints keep the old
/// objective.
final class UnmaskedClassificationTests: XCTestCase {
    static let labels: [Int32] = [1, 0, 1, 0]
    static let encodings: [Encoding] = [
        [2, 5, 17, 9, 3, 30, 41, 3], [2, 12, 8, 3, 22, 3], [2, 44, 7, 26, 3, 13, 3], [2, 19, 28, 33, 3, 6, 11, 40, 3],
    ].map { Encoding(ids: $0, tokens: []) }

    /// The gradient of one step (no update) with these weights; Alice++ and dropout off so only masking differs.
    func gradient(mlm: Float, cls: Float, unmasked: Bool, step: Int = 4) throws -> [Float] {
        var o = PretrainOptions()
        o.mlmWeight = mlm; o.clsWeight = cls; o.vatWeight = 0; o.dropout = false; o.maskRate = 0.4; o.seed = 17
        o.clsOnUnmasked = unmasked
        let model = try MultiTaskGuard(directory: try TestSupport.tinyBase(), seed: 3)
        let t = try GuardrailPretrainer(model: model, options: o)
        XCTAssertNotNil(try t.gradients(Self.encodings, labels: Self.labels, stepIndex: step, firstRow: 0))
        if mlm > 0 { XCTAssertNotNil(t.lastMLMLabels, "the fixture must mask some tokens") }
        return t.grads.array
    }

    static func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        var num = 0.0, den = 0.0
        for (x, y) in zip(a, b) { num += Double(x - y) * Double(x - y); den += Double(y) * Double(y) }
        return (num / max(den, 1e-30)).squareRoot()
    }

    func testClassificationGradientDoesNotDependOnTheMask() throws {
        // Classification alone, nothing masked: the reference.
        let reference = try gradient(mlm: 0, cls: 1, unmasked: true)
        for unmasked in [true, false] {
            // (MLM + classification) − MLM alone = the classification term's gradient inside a masked step.
            let both = try gradient(mlm: 1, cls: 1, unmasked: unmasked), mlmOnly = try gradient(mlm: 1, cls: 0, unmasked: unmasked)
            let clsShare = zip(both, mlmOnly).map { $0 - $1 }
            let diff = Self.relativeDifference(clsShare, reference)
            print("[cls on unmasked=\(unmasked)] classification gradient vs unmasked reference: relative difference \(diff)")
            if unmasked {
                XCTAssertLessThan(diff, 1e-4, "the classification gradient must not see the MLM masks")
            } else {
                XCTAssertGreaterThan(diff, 1e-2, "on masked inputs the classification gradient depends on the masks")
            }
        }
        // Another step masks other positions: the classification gradient stays the same.
        let other = zip(try gradient(mlm: 1, cls: 1, unmasked: true, step: 9), try gradient(mlm: 1, cls: 0, unmasked: true, step: 9)).map { $0 - $1 }
        XCTAssertLessThan(Self.relativeDifference(other, reference), 1e-4)
    }

    func testCheckpointsWrittenBeforeTheSettingKeepTheOldObjective() throws {
        var o = PretrainOptions()
        XCTAssertTrue(o.clsOnUnmasked, "the default reads the unmasked sequence")
        XCTAssertTrue(o.classBalance, "the default balances the classes")
        o.steps = 7
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(o)) as? [String: Any])
        XCTAssertEqual(json["cls_on_unmasked"] as? Bool, true)
        XCTAssertEqual(json["class_balance"] as? Bool, true)
        XCTAssertEqual(try JSONDecoder().decode(PretrainOptions.self, from: JSONEncoder().encode(o)), o)
        json["cls_on_unmasked"] = nil; json["class_balance"] = nil
        let old = try JSONDecoder().decode(PretrainOptions.self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertFalse(old.clsOnUnmasked)
        XCTAssertFalse(old.classBalance)
        XCTAssertEqual(old.steps, 7)
        XCTAssertEqual(o.differences(from: old), ["cls-on-unmasked: checkpoint false, now true", "class-balance: checkpoint false, now true"])
        json["steps"] = nil
        XCTAssertThrowsError(try JSONDecoder().decode(PretrainOptions.self, from: JSONSerialization.data(withJSONObject: json)))
    }
}
