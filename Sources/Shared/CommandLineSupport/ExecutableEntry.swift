import ArgumentParser
import Foundation
import Runtime

extension ParsableCommand {
    /// The entry point of UniGuard's executables (`uniguard`, `coordinator`, `worker`): fast BLAS kernels first
    /// (this may re-execute the process), then this root command. Usage errors (a bad option value, a failed
    /// `validate()`) get ArgumentParser's own handling: the message and the usage, exit 64. A failure while the
    /// command runs (a missing file, a bad data line) is one `<failurePrefix>: <message>` line and exit 1, with no
    /// usage: the command line was fine. With `prefixUsageErrors`, usage errors start with `<failurePrefix>:` too
    /// instead of ArgumentParser's `Error:`, so every error of the executable has one prefix. `arguments` replaces
    /// the process's own (without the executable name).
    public static func runExecutable(failurePrefix: String, prefixUsageErrors: Bool = false, arguments: [String]? = nil) -> Never {
        BLASRuntime.ensureFastKernels()
        func fail(_ error: Error, _ command: (any ParsableCommand.Type)? = nil) -> Never {
            var text = fullMessage(for: error, command: command)
            guard prefixUsageErrors, !(error is ExitCode), exitCode(for: error) != .success, !text.isEmpty else { exit(withError: error) }
            if text.hasPrefix("Error: ") { text = "\(failurePrefix): " + text.dropFirst("Error: ".count) }
            FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
            exit(withError: exitCode(for: error))
        }
        var command: any ParsableCommand
        do { command = try parseAsRoot(arguments) } catch { fail(error) }
        do {
            try command.run()
        } catch {
            // ArgumentParser's own errors stay its own: the built-in help command throws `--help` from run(), and
            // ExitCode, CleanExit and ValidationError mean what they mean to it. Anything else failed at runtime.
            if error is ExitCode || exitCode(for: error) != .failure { fail(error, type(of: command)) }
            FileHandle.standardError.write(Data("\(failurePrefix): \(error)\n".utf8))
            exit(withError: ExitCode.failure)
        }
        exit(withError: nil)
    }

    /// ArgumentParser's message for `error`, with the usage of `command` when the error came from its run()
    /// (ArgumentParser names a subcommand alone there: "Usage: train"; the user typed "uniguard train").
    static func fullMessage(for error: Error, command: (any ParsableCommand.Type)?) -> String {
        guard let command, command != Self.self, let path = commandPath(to: command) else { return fullMessage(for: error) }
        let leaf = command._commandName, full = path.joined(separator: " ")
        return command.fullMessage(for: error)
            .replacingOccurrences(of: "Usage: \(leaf)", with: "Usage: \(full)")
            .replacingOccurrences(of: "'\(leaf) --help'", with: "'\(full) --help'")
    }

    /// The command names from this root down to `target`, nil when it is not among the subcommands.
    static func commandPath(to target: any ParsableCommand.Type) -> [String]? {
        func search(_ node: any ParsableCommand.Type) -> [String]? {
            if node == target { return [node._commandName] }
            for sub in node.configuration.subcommands {
                if let rest = search(sub) { return [node._commandName] + rest }
            }
            return nil
        }
        return search(Self.self)
    }
}
