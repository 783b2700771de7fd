import ArgumentParser
import CommandLineSupport
import Foundation

/// `coordinator bench-store`: operations per second of the coordinator's store, as one JSON line (bench/store).
struct BenchStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-store",
        abstract: "Measure the store: commits/s of the task-result transaction, inserts/s, a load of all tasks (one JSON line).")

    @Option(help: "Transactions per phase (arms inserted, then results recorded).")
    var operations = 2000

    @Option(help: "Database file to create (default: a fresh one in a temporary directory, removed afterwards).")
    var database: String?

    func validate() throws {
        try OptionCheck.within(1...10_000_000, operations, "--operations")
    }

    func run() throws {
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("uniguard-bench-store-\(UUID().uuidString)")
        let path = database ?? temporary.appendingPathComponent("coordinator.sqlite").path
        defer { try? FileManager.default.removeItem(at: temporary) }
        let figures = try StoreBenchmark(operations: operations, path: path).run()
        let data = try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
