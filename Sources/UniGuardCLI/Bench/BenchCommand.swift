import ArgumentParser

/// `uniguard bench ...`: the measurements `bench/` scripts put beside the peers'.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks (driven by the scripts in bench/).",
                                                    subcommands: [BenchInfer.self, BenchTrain.self, BenchParity.self, BenchHash.self])
}
