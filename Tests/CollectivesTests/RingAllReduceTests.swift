import Collectives
import Foundation
import Runtime
import XCTest

/// Gloo's ring all-reduce through the CGloo shim: ranks on their own threads in this process, each with its
/// own TCP device on loopback, meeting through a FileStore or the callback store.
final class RingAllReduceTests: XCTestCase {
    /// all-MiniLM-L6-v2's parameter count with the pooler: the gradient a data-parallel step all-reduces.
    static let miniLMGradientCount = 22_713_216

    var directory: URL!

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("collectives-\(UUID().uuidString)")
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    /// Runs `body(rank)` for every rank on its own thread (not GCD: ranks block on each other, and the pool
    /// may have fewer threads than ranks) and returns each rank's result once all are done.
    func onRanks<T: Sendable>(_ size: Int, _ body: @escaping @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
        let results = Guarded([Result<T, any Error>?](repeating: nil, count: size))
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            let thread = Thread {
                let result = Result { try body(rank) }
                results.withLock { $0[rank] = result }
                done.leave()
            }
            thread.stackSize = 1 << 22
            thread.start()
        }
        done.wait()
        return results.value.map { $0! }
    }

    /// Rank r's contribution at index i: small integers, so every float sum is exact.
    static func value(rank: Int, index: Int) -> Float { Float(index % 13 + 3 * rank) - 5 }

    /// `count` values of `element`, which repeats every 13 indices, filled by doubling copies (fast in debug
    /// builds too, for MiniLM-sized buffers).
    static func periodic(_ count: Int, _ element: (Int) -> Float) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { storage, initialized in
            let seed = min(count, 13)
            for i in 0..<seed { storage[i] = element(i) }
            var filled = seed
            while filled < count {
                let chunk = min(filled - filled % 13, count - filled)
                (storage.baseAddress! + filled).update(from: storage.baseAddress!, count: chunk)
                filled += chunk
            }
            initialized = count
        }
    }

    static func expectedSum(size: Int, index: Int) -> Float {
        (0..<size).reduce(Float(0)) { $0 + value(rank: $1, index: index) }
    }

    /// Connects `size` ranks through `store`, all-reduces buffers of each of `counts` on the same group and
    /// checks every element of every rank's result; returns the collectives' seconds per count (rank 0).
    @discardableResult
    func checkSums(size: Int, store: RendezvousStore, counts: [Int], average: Bool = false) throws -> [Double] {
        let results = onRanks(size) { rank -> [Double] in
            let group = try RingAllReduce(rank: rank, size: size, store: store, device: TCPDevice(hostname: "127.0.0.1"),
                                          timeout: .seconds(60))
            var seconds: [Double] = []
            for count in counts {
                var buffer = Self.periodic(count) { Self.value(rank: rank, index: $0) }
                let start = DispatchTime.now().uptimeNanoseconds
                if average { try group.allReduceAverage(&buffer) } else { try group.allReduceSum(&buffer) }
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                let expected = Self.periodic(count) { i in
                    let sum = Self.expectedSum(size: size, index: i)
                    return average ? sum / Float(size) : sum
                }
                let equal = buffer.withUnsafeBytes { a in expected.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } }
                let mismatch = equal ? nil : (0..<count).first { buffer[$0] != expected[$0] }
                if let mismatch {
                    throw Mismatch(description: "rank \(rank), \(count) floats: element \(mismatch) is \(buffer[mismatch])")
                }
            }
            return seconds
        }
        var rankZero: [Double] = []
        for (rank, result) in results.enumerated() {
            switch result {
            case .success(let seconds): if rank == 0 { rankZero = seconds }
            case .failure(let error): XCTFail("rank \(rank) of \(size): \(error)")
            }
        }
        return rankZero
    }

    struct Mismatch: Error, CustomStringConvertible { let description: String }

    func testTwoRanksThroughFileStoreSumSeveralSizes() throws {
        try checkSums(size: 2, store: .directory(directory.path), counts: [1, 2, 3, 1000, 1 << 20])
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty,
                       "the FileStore published the addresses as files")
    }

    func testThreeRanksThroughFileStoreSumAndAverage() throws {
        // Counts below, at and just above the rank count exercise empty and uneven ring chunks.
        try checkSums(size: 3, store: .directory(directory.path), counts: [1, 2, 3, 4, 65_537, 1_000_003])
        // The average divides by 3 in the shim and here alike: one correctly rounded division, so still exact.
        try checkSums(size: 3, store: .directory(directory.path).prefixed("average"), counts: [5, 3 * 1024],
                      average: true)
    }

    func testAverageDividesTheSumByTheGroupSize() throws {
        // Two ranks: sum / 2 is exact for the integer contributions.
        try checkSums(size: 2, store: .directory(directory.path), counts: [1, 7, 100_000], average: true)
    }

    func testTwoAndThreeRanksThroughCallbackStore() throws {
        let store = DictionaryStore()
        try checkSums(size: 2, store: .keyValue(store).prefixed("generation-1"), counts: [1, 2, 1000, 1 << 20])
        try checkSums(size: 3, store: .keyValue(store).prefixed("generation-2"), counts: [1, 2, 3, 1000, 1 << 20])
        XCTAssertGreaterThan(store.callCount, 0, "rendezvous went through the Swift callbacks")
        let keys = store.keys
        for (generation, size) in [(1, 2), (2, 3)] {
            for rank in 0..<size {
                XCTAssertTrue(keys.contains("generation-\(generation)/\(rank)"), "rank \(rank)'s address key: \(keys)")
            }
        }
        XCTAssertFalse(keys.contains("generation-1/2"), "\(keys)")
        XCTAssertTrue(keys.allSatisfy { $0.hasPrefix("generation-") }, "every key under its generation: \(keys)")
    }

    func testMiniLMGradientSizedAllReduceTwoAndThreeRanks() throws {
        let count = Self.miniLMGradientCount
        let megabytes = Double(count * MemoryLayout<Float>.size) / 1e6
        for size in [2, 3] {
            let seconds = try checkSums(size: size, store: .keyValue(DictionaryStore()), counts: [count])
            guard let time = seconds.first else { continue }
            print("CollectivesTests: all-reduce of \(count) floats (\(String(format: "%.1f", megabytes)) MB), \(size) ranks on loopback: "
                  + String(format: "%.0f ms", time * 1000))
        }
    }

    func testRankThatNeverShowsUpTimesOutThroughFileStore() throws {
        try checkMissingRank(store: .directory(directory.path))
    }

    func testRankThatNeverShowsUpTimesOutThroughCallbackStore() throws {
        try checkMissingRank(store: .keyValue(DictionaryStore()))
    }

    /// Rank 1 of 2 never starts: rank 0's rendezvous fails with a timeout after ~0.5 s instead of hanging.
    func checkMissingRank(store: RendezvousStore) throws {
        let start = Date()
        do {
            _ = try RingAllReduce(rank: 0, size: 2, store: store, device: TCPDevice(hostname: "127.0.0.1"),
                                  timeout: .milliseconds(500))
            XCTFail("a rendezvous without rank 1 succeeded")
        } catch {
            guard case .rendezvousTimeout(let message) = error else { return XCTFail("expected a rendezvous timeout, got \(error)") }
            XCTAssertTrue(message.contains("rank 0 of 2"), message)
        }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(elapsed, 0.4)
        XCTAssertLessThan(elapsed, 10, "the timeout bounds the wait")
    }

    /// Rank 1 closes its connections after the rendezvous: rank 0's all-reduce fails (within its timeout, it
    /// never hangs: it sees the closed connection as a peer gone), and the group refuses further collectives.
    func testPeerThatLeavesFailsTheCollective() throws {
        let store = RendezvousStore.keyValue(DictionaryStore())
        // Rank 1 leaves only once rank 0 is connected too: closing while rank 0 still completes its side of the
        // rendezvous would fail the rendezvous, not the collective this test is about.
        let connected = DispatchSemaphore(value: 0)
        let results = onRanks(2) { rank -> CollectiveError? in
            let group = try RingAllReduce(rank: rank, size: 2, store: store, device: TCPDevice(hostname: "127.0.0.1"),
                                          timeout: .seconds(20))
            if rank == 1 {
                _ = connected.wait(timeout: .now() + 20)
                group.close()
                return nil
            }
            connected.signal()
            Thread.sleep(forTimeInterval: 0.2)
            var buffer = [Float](repeating: 1, count: 1 << 20)
            do throws(CollectiveError) {
                try group.allReduceSum(&buffer, timeout: .seconds(3))
                return nil
            } catch {
                do throws(CollectiveError) { try group.allReduceSum(&buffer) } catch {
                    guard case .groupBroken = error else { throw Mismatch(description: "second call: \(error)") }
                    return error
                }
                throw Mismatch(description: "a second collective on a broken group succeeded")
            }
        }
        for result in results {
            if case .failure(let error) = result { XCTFail("\(error)") }
        }
        guard case .success(let broken?) = results[0] else { return XCTFail("rank 0's all-reduce succeeded without rank 1") }
        guard case .groupBroken(let first) = broken else { return XCTFail("\(broken)") }
        print("CollectivesTests: rank 0 after rank 1 left: \(first)")
        XCTAssertTrue(first.hasPrefix("peer gone"), first)
    }

    func testInvalidArgumentsAndDeviceErrorsAreReported() throws {
        XCTAssertThrowsError(try RingAllReduce(rank: 2, size: 2, store: .directory(directory.path),
                                               device: TCPDevice(hostname: "127.0.0.1"))) { error in
            guard case .invalidArgument = error as? CollectiveError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try TCPDevice(interface: "no-such-interface0")) { error in
            guard case .deviceFailed(let message) = error as? CollectiveError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("no-such-interface0"), message)
        }
        let device = try TCPDevice(hostname: "127.0.0.1")
        XCTAssertTrue(device.description.contains("127.0.0.1"), device.description)
    }

    func testStoreFailureIsReportedAsSuch() throws {
        XCTAssertThrowsError(try RingAllReduce(rank: 0, size: 2, store: .keyValue(DictionaryStore(failSets: true)),
                                               device: TCPDevice(hostname: "127.0.0.1"), timeout: .seconds(2))) { error in
            guard case .storeFailed(let message) = error as? CollectiveError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("coordinator refused the key"), message)
        }
    }

    func testSingleRankGroupIsTheIdentity() throws {
        let group = try RingAllReduce(rank: 0, size: 1, store: .directory(directory.path), device: TCPDevice(hostname: "127.0.0.1"))
        var buffer: [Float] = [1, 2, 3]
        try group.allReduceAverage(&buffer)
        XCTAssertEqual(buffer, [1, 2, 3])
    }
}
