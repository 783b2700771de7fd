import ArgumentParser

/// `uniguard bench ...`: the measurements `bench/` scripts put beside the peers'.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks (driven by the scripts in bench/).",
                                                    subcommands: [BenchInfer.self, BenchTrain.self, BenchGIPStep.self, BenchParity.self, BenchHash.self, BenchAllReduceRank.self])
}

/// Bounds of the bench commands' repetition counts: a benchmark that cannot finish in a day is a typo.
enum BenchLimits {
    static let runs = 1...1_000_000
}
