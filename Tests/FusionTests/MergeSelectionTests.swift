import EncoderModel
import Foundation
@testable import Fusion
@testable import Runtime
import XCTest

/// Quickselect and rank cuts: exact counts, ties broken by index, no sorting.
final class MergeSelectionTests: XCTestCase {
    func testSelectMatchesSortedOrderWithDuplicates() {
        var rng = SeededGenerator(seed: 7)
        for n in [1, 2, 3, 10, 257, 5000] {
            let values = (0..<n).map { _ in Float(Int(rng.next() % 50)) / 7 } // many duplicates
            let sorted = values.sorted()
            for k in Set([0, n / 3, n / 2, n - 1]) {
                let (v, below) = values.withUnsafeBufferPointer { MagnitudeSelection.select($0.baseAddress!, count: n, rank: k) }
                XCTAssertEqual(v, sorted[k], "n \(n) rank \(k)")
                XCTAssertEqual(below, sorted.filter { $0 < v }.count)
            }
        }
    }

    func testSelectSurvivesAllEqualAndSortedInputs() {
        for values in [[Float](repeating: 3, count: 10_000), (0..<10_000).map(Float.init), (0..<10_000).reversed().map(Float.init)] {
            let v = values.withUnsafeBufferPointer { MagnitudeSelection.select($0.baseAddress!, count: values.count, rank: 1234) }.value
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

    func testSelectOverWideRangesAndInfinity() {
        var rng = SeededGenerator(seed: 3)
        var values = (0..<3000).map { _ in Float(rng.nextUnit()) * pow(10, Float(Int(rng.next() % 20)) - 12) }
        values[17] = .infinity; values[18] = 0
        let sorted = values.sorted()
        for k in [0, 1, 1500, 2998, 2999] {
            XCTAssertEqual(values.withUnsafeBufferPointer { MagnitudeSelection.select($0.baseAddress!, count: 3000, rank: k) }.value, sorted[k])
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

    func testModelHashMatchesTheSharedSHA256() throws {
        for size in [0, 1, 55, 56, 63, 64, 65, 1000, 4096 + 7, (4 << 20) + 1001] {
            let dir = MergeFixtures.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("f").path
            var rng = SeededGenerator(seed: UInt64(size))
            try Data((0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next() >> 7) }).write(to: URL(fileURLWithPath: path))
            XCTAssertEqual(try ModelHash.sha256(ofFile: path), try SHA256.hexDigest(ofFile: path), "size \(size)")
        }
        XCTAssertEqual(try ModelHash.sha256(ofFile: MergeFixtures.model("m1") + "/model.safetensors"),
                       "3992ef130fa615f7820e94e087e5a794b892688e2f392777a2cbdd4bd23085a8") // sha256sum
    }

    /// The merge hashes its inputs from their mapping: the same digest as reading the file, across 4 MiB slices.
    func testMappedModelHashMatchesTheFileHash() throws {
        let m1 = MergeFixtures.model("m1") + "/model.safetensors"
        XCTAssertEqual(ModelHash.sha256(of: try SafetensorsFile(path: m1)),
                       "3992ef130fa615f7820e94e087e5a794b892688e2f392777a2cbdd4bd23085a8")
        let dir = MergeFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("big.safetensors").path
        let t = Tensor(zeros: [(4 << 20) / 4 + 333])
        for i in 0..<t.count { t.data[i] = Float(i % 977) * 0.5 }
        try SafetensorsWriter.write(path: path, tensors: [("w", t)])
        XCTAssertEqual(ModelHash.sha256(of: try SafetensorsFile(path: path)), try SHA256.hexDigest(ofFile: path))
    }
}
