import Guards
/// How a classifier is fine-tuned: full fine-tuning or the classifier layer only, and the usual knobs.
public struct TrainingOptions: Sendable {
    /// What moves during training.
    public enum Mode: String, Sendable, CaseIterable {
        /// Full fine-tuning: every encoder and head parameter.
        case fft
        /// Classifier-layer fine-tuning: only `classifier.*`; the encoder runs frozen in eval mode.
        case cft
    }

    public var mode: Mode = .fft
    public var epochs = 3
    public var batch = 16
    public var lr: Float = 5e-5
    public var warmupRatio = 0.1
    public var weightDecay: Float = 0.01
    public var maxGradNorm: Float = 1.0
    public var seed: UInt64 = 42
    /// Use the config's dropout in training (off gives a deterministic, PyTorch-comparable loss curve).
    public var dropout = true
    /// Consecutive non-finite losses tolerated (their steps are skipped) before training stops with an error.
    public var maxNonFiniteSteps = 3

    public init() {}
}

/// A training step's progress for display.
public struct TrainingProgress: Sendable {
    public var epoch: Int
    public var epochs: Int
    public var step: Int
    public var totalSteps: Int
    /// Mean loss over the current epoch so far.
    public var loss: Double
    public var samplesPerSecond: Double
    public var elapsedSeconds: Double
    public var etaSeconds: Double { step == 0 ? 0 : elapsedSeconds / Double(step) * Double(totalSteps - step) }
}

/// What one epoch achieved.
public struct EpochSummary: Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var validation: EvaluationReport?
    public var skippedSteps: Int
}

/// Training failures that are the data's or the settings' fault, with what to do about them.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(step: Int, lr: Float)
    case noData(String)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let s, let lr):
            return "the loss became NaN/infinite at step \(s) (learning rate \(lr)); no update from those steps was applied. Lower --lr or check the data; the model was not written"
        case .noData(let m): return m
        }
    }
}
