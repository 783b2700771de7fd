import ArgumentParser
import CommandLineSupport
import Runtime

/// `coordinator`: the cluster's control plane.
public struct CoordinatorCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "UniGuard cluster coordinator: membership, job queue, leases and durable state.",
        version: UniGuardVersion.description,
        subcommands: [ServeCommand.self, SubmitCommand.self, StatusCommand.self, CancelCommand.self, KeygenCommand.self,
                      BenchStoreCommand.self]
    )

    public init() {}

    /// Client failures keep their `error: <message>` wording.
    public static func main() { runExecutable(failurePrefix: "error") }
}
