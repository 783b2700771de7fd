import XCTest
@testable import Shared

/// Quickselect and rank cuts: exact counts, ties broken by index, no sorting.
final class MergeSelectionTests: XCTestCase {
    func testSelectMatchesSortedOrderWithDuplicates() {
        var rng = SeededGenerator(seed: 7)
        for n in [1, 2, 3, 10, 257, 5000] {
            let values = (0..<n).map { _ in Float(Int(rng.next() % 50)) / 7 } // many duplicates
            let sorted = values.sorted()
            for k in Set([0, n / 3, n / 2, n - 1]) {
                var copy = values
                let v = copy.withUnsafeMutableBufferPointer { MagnitudeSelection.select($0.baseAddress!, count: n, rank: k) }
                XCTAssertEqual(v, sorted[k], "n \(n) rank \(k)")
            }
        }
    }

    func testSelectSurvivesAllEqualAndSortedInputs() {
        for values in [[Float](repeating: 3, count: 10_000), (0..<10_000).map(Float.init), (0..<10_000).reversed().map(Float.init)] {
            var copy = values
            let v = copy.withUnsafeMutableBufferPointer { MagnitudeSelection.select($0.baseAddress!, count: values.count, rank: 1234) }
            XCTAssertEqual(v, values.sorted()[1234])
        }
    }

    func testRankCutHoldsExactlyMElementsEvenWithTies() {
        let values: [Float] = [1, 0, 2, 2, 2, 5, 2, 0, 3, 2]
        for m in 0...values.count {
            var scratch = values
            var cut = scratch.withUnsafeMutableBufferPointer { RankCut(smallest: m, of: $0.baseAddress!, count: values.count) }
            let inside = values.map { cut.contains($0) }
            XCTAssertEqual(inside.filter { $0 }.count, m, "m = \(m)")
            // Everything inside is <= everything outside.
            let maxIn = zip(values, inside).filter(\.1).map(\.0).max() ?? -1
            let minOut = zip(values, inside).filter { !$0.1 }.map(\.0).min() ?? 99
            XCTAssertLessThanOrEqual(maxIn, minOut)
        }
    }

    func testNaNRanksAsLargestMagnitude() {
        XCTAssertEqual(MagnitudeSelection.magnitude(.nan), .infinity)
        XCTAssertEqual(MagnitudeSelection.magnitude(-2), 2)
    }

    func testMagnitudeTrimKeepsIntDensityTimesN() {
        let n = 1000
        var rng = SeededGenerator(seed: 1)
        let deltas = (0..<n).map { _ in Float(rng.nextUnit() - 0.5) }
        var scratch = deltas.map { MagnitudeSelection.magnitude($0) }
        var f = scratch.withUnsafeMutableBufferPointer { DeltaFilter.magnitude(density: 0.37, scratch: $0.baseAddress!, count: n) }
        let kept = deltas.filter { f.keeps(MagnitudeSelection.magnitude($0)) }
        XCTAssertEqual(kept.count, 370)
        let threshold = deltas.map(abs).sorted(by: >)[369]
        XCTAssertTrue(kept.allSatisfy { abs($0) >= threshold })
    }

    func testBreadcrumbsDropsTopGammaAndBottom() {
        let n = 100
        let deltas = (0..<n).map { Float($0 + 1) } // magnitudes 1...100
        var scratch = deltas
        var f = scratch.withUnsafeMutableBufferPointer {
            DeltaFilter.magnitudeOutliers(density: 0.8, gamma: 0.1, scratch: $0.baseAddress!, count: n)
        }
        let kept = deltas.filter { f.keeps($0) }
        // 10 largest and 10 smallest dropped: 80 kept, 11...90.
        XCTAssertEqual(kept, (11...90).map(Float.init))
    }

    func testBreadcrumbsWithZeroGammaKeepsTheLargest() {
        var scratch: [Float] = [1, 2, 3, 4]
        var f = scratch.withUnsafeMutableBufferPointer {
            DeltaFilter.magnitudeOutliers(density: 0.5, gamma: 0, scratch: $0.baseAddress!, count: 4)
        }
        XCTAssertEqual([Float(1), 2, 3, 4].filter { f.keeps($0) }, [3, 4])
    }
}
