import ArgumentParser
import Foundation
import Runtime

/// `uniguard bench hash FILE...`: SHA-256 of whole files as the model and blob hashes compute it (bench/hash).
struct BenchHash: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hash", abstract: "SHA-256 throughput over files (one JSON line).")

    @Argument(help: "Files to hash (e.g. three model.safetensors).")
    var files: [String]

    @Option(help: "Passes over all files; the best one is reported.")
    var runs = 3

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one file") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        var bytes: Int64 = 0
        for f in files { bytes += (try FileManager.default.attributesOfItem(atPath: f)[.size] as? NSNumber)?.int64Value ?? 0 }
        var digests: [String] = []
        let stats = try BenchStats.time(runs: runs) { digests = try files.map { try SHA256.hexDigest(ofFile: $0) } }
        let best = stats.samples.min() ?? 0
        printJSON(["benchmark": "hash", "files": files.count, "bytes": bytes, "best_s": round3(best),
                   "mb_per_s": round3(Double(bytes) / 1e6 / max(best, 1e-9)), "digests": digests])
    }
}
