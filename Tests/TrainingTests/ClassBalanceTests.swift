import Foundation
@testable import Guards
@testable import Runtime
import TestHelpers
@testable import Tokenizers
@testable import Training
import XCTest

/// `classBalance`: in a batch of 1 unsafe and 3 safe rows, the classification gradient is the mean of the two
/// classes' own mean gradients (each class half), not the row mean (the unsafe row a quarter).
final class ClassBalanceTests: XCTestCase {
    static let encodings: [Encoding] = [
        [2, 5, 17, 9, 3, 30, 41, 3], [2, 12, 8, 3, 22, 3], [2, 44, 7, 26, 3, 13, 3], [2, 19, 28, 33, 3, 6, 11, 40, 3],
    ].map { Encoding(ids: $0, tokens: []) }
    static let labels: [Int32] = [1, 0, 0, 0]

    func trainer(balance: Bool) throws -> GuardrailPretrainer {
        var o = PretrainOptions()
        o.mlmWeight = 0; o.vatWeight = 0; o.clsWeight = 1; o.dropout = false; o.seed = 2; o.classBalance = balance
        return try GuardrailPretrainer(model: try MultiTaskGuard(directory: try TestSupport.tinyBase(), seed: 3), options: o)
    }

    func gradient(balance: Bool, rows: [Int]) throws -> (grad: [Float], loss: Float, weights: BatchClassWeights) {
        let t = try trainer(balance: balance)
        let losses = try XCTUnwrap(try t.gradients(rows.map { Self.encodings[$0] }, labels: rows.map { Self.labels[$0] }, stepIndex: 0, firstRow: 0))
        return (t.grads.array, losses.classification, t.classWeights)
    }

    func testBothClassesWeighHalfOfEveryBatch() throws {
        let unsafeOnly = try gradient(balance: true, rows: [0]), safeOnly = try gradient(balance: true, rows: [1, 2, 3])
        XCTAssertEqual(unsafeOnly.weights, .unweighted, "a batch of one class is not reweighted")
        let balanced = try gradient(balance: true, rows: [0, 1, 2, 3]), plain = try gradient(balance: false, rows: [0, 1, 2, 3])
        XCTAssertEqual(balanced.weights, BatchClassWeights(safe: 4.0 / 6, unsafe: 2))
        let half = zip(unsafeOnly.grad, safeOnly.grad).map { 0.5 * $0 + 0.5 * $1 }
        let quarter = zip(unsafeOnly.grad, safeOnly.grad).map { 0.25 * $0 + 0.75 * $1 }
        let d = UnmaskedClassificationTests.relativeDifference
        print("[class balance] balanced vs class means: \(d(balanced.grad, half)); unweighted vs row mean: \(d(plain.grad, quarter))")
        XCTAssertLessThan(d(balanced.grad, half), 1e-4)
        XCTAssertLessThan(d(plain.grad, quarter), 1e-4)
        XCTAssertGreaterThan(d(balanced.grad, quarter), 1e-2, "the weights must change the gradient")
        XCTAssertEqual(balanced.loss, 0.5 * unsafeOnly.loss + 0.5 * safeOnly.loss, accuracy: 1e-5)
        XCTAssertEqual(plain.loss, 0.25 * unsafeOnly.loss + 0.75 * safeOnly.loss, accuracy: 1e-5)
    }

    func testWeightsOfAGlobalBatch() {
        XCTAssertEqual(BatchClassWeights(unsafeRows: 2, rows: 8), BatchClassWeights(safe: 8.0 / 12, unsafe: 2))
        XCTAssertEqual(BatchClassWeights(unsafeRows: 4, rows: 8), BatchClassWeights(safe: 1, unsafe: 1))
        XCTAssertEqual(BatchClassWeights(unsafeRows: 0, rows: 8), .unweighted)
        XCTAssertEqual(BatchClassWeights(unsafeRows: 8, rows: 8), .unweighted)
    }
}
