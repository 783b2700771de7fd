import ArgumentParser
import CommandLineSupport
import Foundation
import Fusion
import GuardData

/// `uniguard merge-search --config SEARCH.yml --out DIR`: the paper's UniGuard merge search, in one process.
struct MergeSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge-search",
        abstract: "Search merge weights, method and parameter subset by validation F1; export the best merged model.")

    @Option(help: "Search config (YAML): candidates, top_k, validation, policy, methods, subsets, strategy/strategies, iterations, seed.")
    var config: String
    @Option(help: "Output directory: best/ (per strategy), history-*.jsonl, search-*.json, convergence.svg.")
    var out: String
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        threads.apply()
        try execute()
    }

    func execute() throws {
        let cfg = try MergeSearchSpecParser(.localRun).load(path: config)
        let search = try LocalMergeSearch(spec: cfg, log: note)
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        note("search space: top \(search.ranking.kept.count) of \(cfg.candidates.count) candidates, methods \(cfg.methods.map(\.rawValue)), subsets \(cfg.subsets.map(\.description)), \(search.ranking.sampleCount) validation samples")
        var runs: [(SearchStrategyKind, MergeSearchRun)] = []
        for strategy in cfg.strategies {
            let s = try search.run(strategy: strategy) { r in
                note(String(format: "%@ #%d  %@ %@ weights [%@]  F1 %.4f  (%.1fs)", strategy.rawValue, r.iteration, r.method.rawValue,
                            r.subset.description, r.weights.map { String(format: "%.2f", $0) }.joined(separator: " "), r.f1, r.seconds))
            }
            runs.append((strategy, s))
            let tag = strategy.rawValue
            try JSONLinesFile.write(s.history, to: outURL.appendingPathComponent("history-\(tag).jsonl"))
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try enc.encode(s.engine).write(to: outURL.appendingPathComponent("search-\(tag).json"), options: .atomic)
            try s.exportBest(to: outURL.appendingPathComponent("best-\(tag)").path)
        }
        try ConvergencePlot(histories: runs.map { (name: $0.0.rawValue, records: $0.1.history) })
            .write(to: outURL.appendingPathComponent("convergence.svg").path)

        // The strategy x iterations table (best F1 within the first n arms), beside the best single input.
        let marks = [1, 5, 10, 20, 30, 50, 100].filter { $0 < cfg.iterations } + [cfg.iterations]
        print(String(format: "best single input model: %@  validation F1 %.4f", search.ranking.scores[0].path, search.ranking.bestSingleF1))
        func cell(_ s: String) -> String { String(repeating: " ", count: max(0, 8 - s.count)) + s }
        print("strategy        " + marks.map { cell("n=\($0)") }.joined())
        for (k, s) in runs {
            print(k.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0) + marks.map { String(format: "%8.4f", LocalMergeSearch.bestWithin(s.history, $0)) }.joined())
        }
        for (k, s) in runs {
            if let b = s.best {
                print(String(format: "%@ best arm #%d: %@ over %@, weights [%@] -> F1 %.4f (%@ the best single input)  exported to %@",
                             k.rawValue, b.arm.rawValue, b.method.rawValue, b.subset.description,
                             b.weights.map { String(format: "%.3f", $0) }.joined(separator: ", "), b.f1,
                             b.f1 >= search.ranking.bestSingleF1 ? "matches or beats" : "below", outURL.appendingPathComponent("best-\(k.rawValue)").path))
            }
        }
    }
}

/// Writes Codable values as JSON lines.
enum JSONLinesFile {
    static func write<T: Encodable>(_ values: [T], to url: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var data = Data()
        for v in values { data.append(try enc.encode(v)); data.append(0x0A) }
        try data.write(to: url, options: .atomic)
    }
}
