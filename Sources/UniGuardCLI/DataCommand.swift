import ArgumentParser

/// `uniguard data`: import, expand and split sample data.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Import, expand and split sample data.",
        subcommands: [DataImportCommand.self, DataExpandCommand.self, DataSplitCommand.self]
    )
}
