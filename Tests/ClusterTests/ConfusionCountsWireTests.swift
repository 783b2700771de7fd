@testable import Cluster
import Guards
import XCTest

/// The four counts the wire carries: sums, F1, the protobuf round trip, and hostile values rejected.
final class ConfusionCountsWireTests: XCTestCase {
    func testSumsF1AndRoundTrip() throws {
        let a = ConfusionCounts(tp: 3, fp: 1, tn: 5, fn: 1)
        let b = ConfusionCounts(tp: 1, fp: 0, tn: 2, fn: 1)
        XCTAssertEqual((a + b).total, 14)
        XCTAssertEqual((a + b).f1, 8.0 / 11.0, accuracy: 1e-12)
        XCTAssertEqual(ConfusionCounts(tn: 4).f1, 0)
        XCTAssertEqual(try ConfusionCounts(wire: a.wire), a)
    }

    /// A hostile worker can send 2^64-1: rejected with a clear error, never trapped or wrapped.
    func testCountsBeyondIntAreRejected() {
        var wire = ConfusionCounts(tp: 1).wire
        wire.fn = UInt64.max
        XCTAssertThrowsError(try ConfusionCounts(wire: wire)) { error in
            XCTAssertEqual(error as? WireCountsError, WireCountsError(field: "fn", value: UInt64.max))
            XCTAssertTrue("\(error)".contains("18446744073709551615"), "\(error)")
        }
        wire.fn = UInt64(Int.max)
        XCTAssertThrowsError(try ConfusionCounts(wire: wire), "Int.max + 1 overflows the total") { error in
            XCTAssertEqual((error as? WireCountsError)?.value, nil)
        }
        wire.tp = 0
        XCTAssertEqual(try ConfusionCounts(wire: wire).fn, Int.max)
    }
}
