import ArgumentParser
import CommandLineSupport
import GuardData

/// `--policies DIR` (default: the bundled policies/), declared once for the commands that read the policy pack.
struct PolicyPackOption: ParsableArguments {
    @Option(name: .long, help: "Policy pack directory (default: the bundled policies/).")
    var policies: String?

    func directory() throws -> String { try Self.directory(policies) }

    func load() throws -> PolicyPack { try PolicyPack.load(directory: try directory()) }

    /// `given`, else the bundled pack (also for commands without the option, e.g. a `--policy ID` lookup).
    static func directory(_ given: String?) throws -> String {
        if let given { return given }
        guard let bundled = PolicyPack.locateBundled() else {
            throw CommandFailure("cannot find the bundled policies/ directory; pass --policies DIR")
        }
        return bundled
    }
}
