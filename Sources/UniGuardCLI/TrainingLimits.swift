import CommandLineSupport

/// Ranges of the knobs shared by train, pretrain and the bench commands: wide enough for any real run, narrow
/// enough that step arithmetic (steps x batch, samples + batch) cannot overflow and trap.
enum TrainingLimits {
    static let epochs = 1...100_000
    static let batch = 1...100_000
    static let steps = 1...100_000_000
    /// Beyond the model's positions the encoder itself refuses, naming --max-length.
    static let maxLength = 2...100_000

    /// `--batch`, `--lr` and `--max-length`, whichever the command was given.
    static func check(batch: Int?, lr: Double?, maxLength: Int?, minimumLength: Int = 2) throws {
        try OptionCheck.within(Self.batch, batch, "--batch")
        try OptionCheck.positive(lr, "--lr")
        try OptionCheck.within(minimumLength...Self.maxLength.upperBound, maxLength, "--max-length")
    }
}
