import ArgumentParser
import Foundation
import Runtime

extension ParsableCommand {
    /// The entry point of UniGuard's executables (`uniguard`, `coordinator`, `worker`): fast BLAS kernels first
    /// (this may re-execute the process), then this root command. Usage errors (a bad option value, a failed
    /// `validate()`) get ArgumentParser's own handling: the message and the usage, exit 64. A failure while the
    /// command runs (a missing file, a bad data line) is one `<failurePrefix>: <message>` line and exit 1, with no
    /// usage: the command line was fine.
    public static func runExecutable(failurePrefix: String) -> Never {
        BLASRuntime.ensureFastKernels()
        var command: any ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do {
            try command.run()
        } catch {
            // ArgumentParser's own errors stay its own: the built-in help command throws `--help` from run(), and
            // ExitCode, CleanExit and ValidationError mean what they mean to it. Anything else failed at runtime.
            if error is ExitCode || exitCode(for: error) != .failure { exit(withError: error) }
            FileHandle.standardError.write(Data("\(failurePrefix): \(error)\n".utf8))
            exit(withError: ExitCode.failure)
        }
        exit(withError: nil)
    }
}
