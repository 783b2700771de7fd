import ArgumentParser
import Shared

/// `worker`: runs training steps and merge-arm evaluations for a coordinator.
@main
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "UniGuard cluster worker.",
        version: UniGuardVersion.description
    )

    static func main() {
        BLASRuntime.ensureFastKernels()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    func run() throws {
        print(Self.helpMessage())
    }
}
