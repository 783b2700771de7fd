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
        func fail(_ error: Error) -> Never {
            var text = fullMessage(for: error)
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
            if error is ExitCode || exitCode(for: error) != .failure { fail(error) }
            FileHandle.standardError.write(Data("\(failurePrefix): \(error)\n".utf8))
            exit(withError: ExitCode.failure)
        }
        exit(withError: nil)
    }
}
