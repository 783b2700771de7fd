import Guards
/// How a classifier is fine-tuned: full fine-tuning or the classifier layer only, and the usual knobs.
public struct TrainingOptions: Codable, Sendable, Equatable {
    /// What moves during training.
    public enum Mode: String, Codable, Sendable, CaseIterable {
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
    /// Steps between resumable checkpoints (0: none); needs an output directory.
    public var checkpointEvery = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case mode, epochs, batch, lr, seed, dropout
        case warmupRatio = "warmup_ratio", weightDecay = "weight_decay", maxGradNorm = "max_grad_norm"
        case maxNonFiniteSteps = "max_non_finite_steps", checkpointEvery = "checkpoint_every"
    }

    /// Settings that change the numbers a step produces; a resume must not change them.
    public func differences(from other: TrainingOptions) -> [String] {
        var out: [String] = []
        func cmp<T: Equatable>(_ name: String, _ a: T, _ b: T) { if a != b { out.append("\(name): checkpoint \(b), now \(a)") } }
        cmp("mode", mode.rawValue, other.mode.rawValue); cmp("epochs", epochs, other.epochs); cmp("batch", batch, other.batch)
        cmp("lr", lr, other.lr); cmp("warmup-ratio", warmupRatio, other.warmupRatio); cmp("weight-decay", weightDecay, other.weightDecay)
        cmp("max-grad-norm", maxGradNorm, other.maxGradNorm); cmp("seed", seed, other.seed); cmp("dropout", dropout, other.dropout)
        return out
    }
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
    /// Real (non-padding) tokens per second over the whole global batch.
    public var tokensPerSecond: Double = 0
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
