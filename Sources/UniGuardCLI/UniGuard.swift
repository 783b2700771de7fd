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
        subcommands: [Doctor.self, TokenizeCommand.self, EmbedCommand.self, SimilarityCommand.self, DataCommand.self, CorpusCommand.self, TrainCommand.self, PretrainCommand.self, ClassifyCommand.self, EvalCommand.self, MergeCommand.self, MergeSearchCommand.self, BenchCommand.self]
    )

    static func main() { runExecutable(failurePrefix: "uniguard") }
}
