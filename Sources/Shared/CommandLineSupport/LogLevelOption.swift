import ArgumentParser
import Logging

// swift-log's own enum is the option type, so a misspelt level is a usage error instead of a silent `info`.
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `--log-level`: the daemons' logging option; logs go to stderr.
public struct LogLevelOption: ParsableArguments {
    @Option(help: "Log level.")
    public var logLevel: Logger.Level = .info

    public init() {}

    /// Routes every logger to stderr at `--log-level`; call once, before the first logger is made.
    public func bootstrap() {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
