import ArgumentParser

/// `uniguard data`: import, expand and split sample files.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data", abstract: "Import, expand and split sample data.")
}
