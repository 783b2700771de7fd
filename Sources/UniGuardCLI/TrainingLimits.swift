import ArgumentParser
import CommandLineSupport
import EncoderModel
import Foundation

/// Ranges of the knobs shared by train, pretrain and the bench commands: wide enough for any real run, narrow
/// enough that step arithmetic (steps x batch, samples + batch) cannot overflow and trap.
enum TrainingLimits {
    static let epochs = 1...100_000
    static let batch = 1...100_000
    static let steps = 1...100_000_000
    /// The option's own bound; `checkPositions` holds it to the model's positions once the model is known.
    static let maxLength = 2...100_000

    /// `--batch`, `--lr` and `--max-length`, whichever the command was given.
    static func check(batch: Int?, lr: Double?, maxLength: Int?, minimumLength: Int = 2) throws {
        try OptionCheck.within(Self.batch, batch, "--batch")
        try OptionCheck.positive(lr, "--lr")
        try OptionCheck.within(minimumLength...Self.maxLength.upperBound, maxLength, "--max-length")
    }

    /// `--max-length` beyond the model's position embeddings is a usage error, found before any work (the encoder
    /// would otherwise refuse only when an input gets that long, possibly hours in).
    static func checkPositions(maxLength: Int?, model: URL) throws {
        guard let maxLength else { return }
        let positions = try ModelDirectory(model).config.maxSequenceLength
        try OptionCheck.require(maxLength <= positions, "--max-length must be at most \(positions), the positions of \(model.path) (got \(maxLength))")
    }
}
