import ArgumentParser
import Runtime

/// `coordinator`: the cluster's control plane.
public struct CoordinatorCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "UniGuard cluster coordinator: membership, job queue, leases and durable state.",
        version: UniGuardVersion.description,
        subcommands: [ServeCommand.self, SubmitCommand.self, StatusCommand.self, CancelCommand.self, KeygenCommand.self]
    )

    public init() {}

    public static func main() {
        BLASRuntime.ensureFastKernels()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
