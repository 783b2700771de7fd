import Foundation
import Guards

/// The settings of one fine-tuning run (`uniguard train` and a cluster `kind: finetune` job): keys are the CLI
/// options in snake_case; a missing key takes the CLI's default. Relative paths are the caller's to resolve.
public struct FinetuneSettings: Codable, Sendable, Equatable {
    /// Base model directory (nil: the cached all-MiniLM-L6-v2).
    public var base: String?
    /// Training samples (JSONL) and optional validation samples.
    public var train: String
    public var val: String?
    public var policy: String
    /// Policy pack directory (nil: the bundled policies/).
    public var policies: String?
    public var epochs = 3
    public var mode: TrainingOptions.Mode = .fft
    public var input: GuardMetadata.InputFormat = .prompt
    public var head: GuardMetadata.HeadKind = .mean
    /// The global batch: samples per optimizer step, whatever the number of workers.
    public var batch = 16
    public var lr: Double = 5e-5
    public var maxLength = 128
    public var seed: UInt64 = 42
    public var dropout = true
    /// Steps between resumable checkpoints (0: none).
    public var checkpointEvery = 0
    public var skipInvalid = false
    /// How the labels are balanced before fitting (default: oversample the minority label).
    public var balance: Balance = .oversample
    /// The decision threshold is chosen on `val` at the end: max F1 with false-positive rate at most this.
    public var targetFPR = 0.05

    /// `balance`: oversample repeats the minority label until both are equally frequent (GuardData.ClassBalance).
    public enum Balance: String, Codable, Sendable, CaseIterable { case oversample, none }

    public init(train: String, policy: String) { self.train = train; self.policy = policy }

    enum CodingKeys: String, CodingKey {
        case base, train, val, policy, policies, epochs, mode, input, head, batch, lr, seed, dropout
        case maxLength = "max_length", checkpointEvery = "checkpoint_every", skipInvalid = "skip_invalid", balance
        case targetFPR = "target_fpr"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        train = try c.decode(String.self, forKey: .train)
        policy = try c.decode(String.self, forKey: .policy)
        base = try c.decodeIfPresent(String.self, forKey: .base)
        val = try c.decodeIfPresent(String.self, forKey: .val)
        policies = try c.decodeIfPresent(String.self, forKey: .policies)
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? epochs
        mode = try c.decodeIfPresent(TrainingOptions.Mode.self, forKey: .mode) ?? mode
        input = try c.decodeIfPresent(GuardMetadata.InputFormat.self, forKey: .input) ?? input
        head = try c.decodeIfPresent(GuardMetadata.HeadKind.self, forKey: .head) ?? head
        batch = try c.decodeIfPresent(Int.self, forKey: .batch) ?? batch
        lr = try c.decodeIfPresent(Double.self, forKey: .lr) ?? lr
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength) ?? maxLength
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        dropout = try c.decodeIfPresent(Bool.self, forKey: .dropout) ?? dropout
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? checkpointEvery
        skipInvalid = try c.decodeIfPresent(Bool.self, forKey: .skipInvalid) ?? skipInvalid
        balance = try c.decodeIfPresent(Balance.self, forKey: .balance) ?? balance
        targetFPR = try c.decodeIfPresent(Double.self, forKey: .targetFPR) ?? targetFPR
    }

    /// The trainer's options for these settings.
    public var options: TrainingOptions {
        var o = TrainingOptions()
        o.mode = mode; o.epochs = epochs; o.batch = batch; o.lr = Float(lr); o.seed = seed; o.dropout = dropout
        o.checkpointEvery = checkpointEvery
        return o
    }

    /// Problems a run would hit later, each naming the key and what to do (empty: usable).
    public func problems() -> [String] {
        var out: [String] = []
        if !(1...100_000).contains(epochs) { out.append("epochs must be in 1...100000 (got \(epochs))") }
        if !(1...100_000).contains(batch) { out.append("batch must be in 1...100000 (got \(batch))") }
        if !(lr > 0 && lr.isFinite) { out.append("lr must be a positive number (got \(lr))") }
        if !(2...100_000).contains(maxLength) { out.append("max_length must be in 2...100000 (got \(maxLength))") }
        if checkpointEvery < 0 { out.append("checkpoint_every must be 0 or more (got \(checkpointEvery))") }
        if !(targetFPR >= 0 && targetFPR <= 1) { out.append("target_fpr must be in [0, 1] (got \(targetFPR))") }
        if policy.isEmpty { out.append("policy must name a policy of the pack") }
        return out
    }
}
