import ArgumentParser
import CommandLineSupport
import Runtime

/// `uniguard`: local tokenize / embed / classify / train / merge / eval / serve.
@main
struct UniGuard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uniguard",
        abstract: "Train, merge and serve small guardrail classifiers.",
        version: UniGuardVersion.description,
        subcommands: [Doctor.self, TokenizeCommand.self, EmbedCommand.self, SimilarityCommand.self, DataCommand.self, CorpusCommand.self, TrainCommand.self, PretrainCommand.self, CalibrateCommand.self, ClassifyCommand.self, EvalCommand.self, MergeCommand.self, MergeSearchCommand.self, SynthesizeCommand.self, BenchCommand.self, ServeCommand.self]
    )

    static func main() {
        // Ctrl-C during a save removes the half-written temporaries; the previous output stays as it was.
        InterruptCleanup.install()
        runExecutable(failurePrefix: "uniguard", prefixUsageErrors: true,
                      arguments: DashPrompt.rewrite(Array(CommandLine.arguments.dropFirst())))
    }
}
