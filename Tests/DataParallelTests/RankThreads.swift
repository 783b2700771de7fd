import Collectives
import DataParallel
import EncoderModel
import Foundation
import Runtime
import TestHelpers
import Training
import XCTest

/// Data-parallel ranks as threads of the test process: each connects its own Gloo TCP device on loopback
/// through a FileStore in a temporary directory, and runs the real training loop with a GlooGradientReducer.
enum RankThreads {
    /// Runs `body` on `size` ranks, each on its own thread (ranks block on each other, so not GCD's pool), and
    /// returns their results in rank order; the first failure is rethrown after every rank has finished.
    static func run<T: Sendable>(_ size: Int, store: RendezvousStore, bucketFloats: Int = 1 << 12, collectiveTimeout: Duration? = nil,
                                 _ body: @escaping @Sendable (any GradientReducer) throws -> T) throws -> [T] {
        let results = Guarded([Result<T, any Error>?](repeating: nil, count: size))
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            let thread = Thread {
                let result = Result { () throws -> T in
                    let group = try RingAllReduce(rank: rank, size: size, store: store, device: TCPDevice(hostname: "127.0.0.1"),
                                                  timeout: .seconds(120))
                    return try body(GlooGradientReducer(group: group, bucketFloats: bucketFloats, timeout: collectiveTimeout))
                }
                results.withLock { $0[rank] = result }
                done.leave()
            }
            thread.stackSize = 1 << 23
            thread.start()
        }
        done.wait()
        return try results.value.map { try $0!.get() }
    }

    /// The largest |a[i] − b[i]|.
    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "parameter counts differ")
        var m: Float = 0
        for i in a.indices { m = max(m, abs(a[i] - b[i])) }
        return m
    }

    /// Where the largest |a[i] − b[i]| is: the slot's name, the index in it, and both values.
    static func worst(_ a: [Float], _ b: [Float], slots: [ParameterStore.Slot]) -> String {
        var at = 0
        for i in a.indices where abs(a[i] - b[i]) > abs(a[at] - b[at]) { at = i }
        let slot = slots.first { (($0.offset)..<($0.offset + $0.count)).contains(at) }
        return "\(slot?.name ?? "?")[\(at - (slot?.offset ?? 0))]: \(a[at]) vs \(b[at])"
    }

    /// Whether every rank holds exactly the same bytes.
    static func identical(_ ranks: [[Float]]) -> Bool {
        ranks.dropFirst().allSatisfy { r in
            r.withUnsafeBytes { a in ranks[0].withUnsafeBytes { b in a.count == b.count && memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } }
        }
    }
}

/// Shared set-up of the data-parallel tests: one BLAS and kernel thread per rank (ranks are threads already),
/// a temporary directory per test.
class DataParallelTestCase: XCTestCase {
    var directory: URL!
    private var savedThreads = 1

    override func setUp() {
        directory = TestSupport.tempDir()
        savedThreads = Parallel.threads
        Parallel.setThreads(1); BLASRuntime.setThreads(1)
    }

    override func tearDown() {
        Parallel.setThreads(savedThreads); BLASRuntime.setThreads(savedThreads)
        try? FileManager.default.removeItem(at: directory)
    }

    /// A rendezvous namespace of its own for each group a test connects.
    func store(_ name: String) -> RendezvousStore { .directory(directory.appendingPathComponent("rendezvous").path).prefixed(name) }
}
