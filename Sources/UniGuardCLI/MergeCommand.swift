import ArgumentParser

/// `uniguard merge CONFIG OUT`: merge model directories (mergekit-style YAML).
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge", abstract: "Merge model directories.")
}
