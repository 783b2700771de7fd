@testable import Cluster
import XCTest

/// The four counts the wire carries: sums, F1 and the protobuf round trip.
final class ConfusionTallyTests: XCTestCase {
    func testConfusionTallyF1() {
        let a = ConfusionTally(tp: 3, fp: 1, tn: 5, fn: 1)
        let b = ConfusionTally(tp: 1, fp: 0, tn: 2, fn: 1)
        XCTAssertEqual((a + b).total, 14)
        XCTAssertEqual((a + b).f1, 8.0 / 11.0, accuracy: 1e-12)
        XCTAssertEqual(ConfusionTally(tn: 4).f1, 0)
        XCTAssertEqual(ConfusionTally(a.wire), a)
    }
}
