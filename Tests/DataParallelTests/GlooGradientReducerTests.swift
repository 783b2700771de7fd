import Collectives
import DataParallel
import Foundation
import Runtime
import Training
import XCTest

/// The bucketed reducer gives the sums of one big all-reduce, whatever the bucket size.
final class GlooGradientReducerTests: DataParallelTestCase {
    static func values(rank: Int, count: Int) -> [Float] {
        var rng = RandomSource(seed: RandomSource.key(77, UInt64(rank)))
        return (0..<count).map { _ in rng.nextNormal() }
    }

    func testBucketsSumLikeOneBigReduce() throws {
        let count = 100_003
        for size in [2, 3] {
            let bucketed = try RankThreads.run(size, store: store("buckets-\(size)"), bucketFloats: 1000) { reducer in
                var v = Self.values(rank: reducer.rank, count: count)
                try v.withUnsafeMutableBufferPointer { try reducer.sum($0) }
                return v
            }
            let whole = try RankThreads.run(size, store: store("whole-\(size)"), bucketFloats: 1 << 22) { reducer in
                var v = Self.values(rank: reducer.rank, count: count)
                try v.withUnsafeMutableBufferPointer { try reducer.sum($0) }
                return v
            }
            XCTAssertTrue(RankThreads.identical(bucketed), "every rank gets the same reduced bytes (\(size) ranks, buckets)")
            XCTAssertTrue(RankThreads.identical(whole), "every rank gets the same reduced bytes (\(size) ranks, one reduce)")
            // The exact sums, in Double: each float result is the sum rounded at most size-1 times.
            let inputs = (0..<size).map { Self.values(rank: $0, count: count) }
            var worst = 0.0
            for i in 0..<count {
                let exact = inputs.reduce(0.0) { $0 + Double($1[i]) }
                let scale = inputs.reduce(0.0) { $0 + abs(Double($1[i])) }
                for got in [bucketed[0][i], whole[0][i]] { worst = max(worst, abs(Double(got) - exact) / max(scale, 1e-30)) }
            }
            print("GlooGradientReducerTests: \(size) ranks, \(count) floats in buckets of 1000 vs one reduce: worst relative error \(worst)")
            XCTAssertLessThanOrEqual(worst, Double(size - 1) * 0x1p-24, "only the ring's float additions differ from the exact sum")
            if size == 2 {
                // Two contributions: a + b is b + a, so the bucket boundaries cannot change a single bit.
                XCTAssertEqual(bucketed[0], whole[0])
            }
        }
    }

    /// `collective_timeout_ms`: a rank whose peer never joins the all-reduce fails within the reducer's timeout,
    /// not the group's (120 s here).
    func testAPeerThatNeverReducesTimesOutWithinTheCollectiveTimeout() throws {
        let results = try RankThreads.run(2, store: store("timeout"), collectiveTimeout: .milliseconds(300)) { reducer -> Double? in
            guard reducer.rank == 0 else {
                Thread.sleep(forTimeInterval: 3)   // connected, but never reduces
                return nil
            }
            var v: [Float] = [1, 2, 3]
            let start = Date()
            do {
                try v.withUnsafeMutableBufferPointer { try reducer.sum($0) }
                return -1
            } catch {
                return Date().timeIntervalSince(start)
            }
        }
        let waited = try XCTUnwrap(results[0])
        XCTAssertGreaterThanOrEqual(waited, 0.2, "rank 0's all-reduce succeeded without rank 1")
        XCTAssertLessThan(waited, 2.5, "the collective timeout bounds the wait")
    }

    func testEmptyBufferAndSingleRank() throws {
        let results = try RankThreads.run(2, store: store("empty"), bucketFloats: 7) { reducer in
            var none: [Float] = []
            try none.withUnsafeMutableBufferPointer { try reducer.sum($0) }
            var some: [Float] = [Float(reducer.rank + 1), 2]
            try some.withUnsafeMutableBufferPointer { try reducer.sum($0) }
            return some
        }
        XCTAssertEqual(results, [[3, 4], [3, 4]])
        let one = SingleProcessReducer()
        var v: [Float] = [1, 2]
        try v.withUnsafeMutableBufferPointer { try one.sum($0) }
        XCTAssertEqual(v, [1, 2])
        XCTAssertEqual(one.worldSize, 1)
    }

    func testBatchPartitionCoversEveryRowOnce() {
        for batch in [0, 1, 2, 7, 8, 16, 33] {
            for world in 1...9 {
                let ranges = (0..<world).map { BatchPartition.range(batch: batch, rank: $0, worldSize: world) }
                XCTAssertEqual(ranges.first?.lowerBound, 0)
                XCTAssertEqual(ranges.last?.upperBound, batch)
                for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
                let sizes = ranges.map(\.count)
                XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1, "shares differ by at most a row: \(sizes)")
            }
        }
    }
}
