import ArgumentParser
import Collectives
import CommandLineSupport
import DataParallel
import Foundation

/// `uniguard bench allreduce-rank` (hidden): one rank of bench/allreduce. Connects to its peers through a
/// FileStore directory, all-reduces a gradient-sized buffer with the training loop's reducer, checks the sums
/// and prints one JSON line with each timed all-reduce's seconds.
struct BenchAllReduceRank: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "allreduce-rank", abstract: "One rank of bench/allreduce; one JSON line.",
                                                    shouldDisplay: false)

    @Option(help: "This process's rank.") var rank: Int
    @Option(help: "Ranks in the group.") var size: Int
    @Option(help: "Rendezvous directory shared by every rank (a Gloo FileStore).") var store: String
    @Option(help: "Address to bind Gloo's TCP transport to.") var host = "127.0.0.1"
    @Option(help: "Floats per all-reduce (default: all-MiniLM-L6-v2's full gradient).") var floats = 22_713_216
    @Option(help: "Floats per bucket (GlooGradientReducer's default).") var bucketFloats = 1 << 22
    @Option(help: "Timed all-reduces.") var runs = 5
    @Option(help: "Untimed all-reduces first.") var warmup = 1
    @Option(help: "Rendezvous and collective timeout in seconds.") var timeout = 300

    func validate() throws {
        try OptionCheck.within(1...1024, size, "--size")
        try OptionCheck.within(0...(size - 1), rank, "--rank")
        try OptionCheck.within(1...(1 << 30), floats, "--floats")
        try OptionCheck.within(1...(1 << 30), bucketFloats, "--bucket-floats")
        try OptionCheck.within(BenchLimits.runs, runs, "--runs")
        try OptionCheck.within(0...BenchLimits.runs.upperBound, warmup, "--warmup")
        try OptionCheck.within(1...86_400, timeout, "--timeout")
    }

    func run() throws {
        let group = try RingAllReduce(rank: rank, size: size, store: .directory(store), device: TCPDevice(hostname: host),
                                      timeout: .seconds(timeout))
        let reducer = GlooGradientReducer(group: group, bucketFloats: bucketFloats)
        // Rank r contributes r+1 everywhere: every sum is the exact integer size(size+1)/2.
        let value = Float(rank + 1), expected = Float(size * (size + 1) / 2)
        var buffer = [Float](repeating: value, count: floats)
        var seconds: [Double] = []
        for i in 0..<(warmup + runs) {
            buffer.withUnsafeMutableBufferPointer { $0.update(repeating: value) }
            let t0 = DispatchTime.now().uptimeNanoseconds
            try buffer.withUnsafeMutableBufferPointer { try reducer.sum($0) }
            let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if i >= warmup { seconds.append(t) }
            if let bad = buffer.firstIndex(where: { $0 != expected }) {
                throw CommandFailure("rank \(rank): element \(bad) is \(buffer[bad]), expected \(expected)")
            }
        }
        printJSON(["rank": rank, "size": size, "floats": floats, "bytes": floats * 4, "bucket_floats": bucketFloats,
                   "device": group.device.description, "seconds": seconds.map { (($0 * 1e6).rounded()) / 1e6 }])
    }
}
