import ArgumentParser

/// `uniguard data`: import, expand and split sample data.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Import, expand, merge, split and count sample data.",
        subcommands: [DataImportCommand.self, DataExpandCommand.self, DataMergeCommand.self, DataSplitCommand.self, DataStatsCommand.self]
    )
}
