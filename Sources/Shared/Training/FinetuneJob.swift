import Foundation
import GuardData
import Guards
import Runtime

/// The data side of fine-tuning, shared by `uniguard train` and the worker so both train on exactly the same
/// inputs: the policy's samples from the train/val JSONL, the model's input formatting, and
/// `GuardModel.fromBase` with the run's metadata.
public enum FinetuneJob {
    /// What a fine-tuning run starts from.
    public struct Prepared {
        public let model: GuardModel
        public let examples: [TaskGuardTrainer.Example]
        /// Formatted validation inputs with their truth (empty without `val`).
        public let validation: [(text: String, unsafe: Bool)]
        /// Training samples per label, for the summary line.
        public let counts: [SafetyLabel: Int]
        /// Lines skipped as malformed (with `skip_invalid`), one report per file, and what balancing added.
        public let skipReports: [String]
    }

    /// Loads the samples and builds the model. `base` and `policies` are the resolved directories of
    /// `settings.base` / `settings.policies` (their defaults need the CLI's or the worker's lookup).
    /// With `resume`, the model is the checkpoint's (its parameters and metadata) instead of a new one on `base`.
    public static func prepare(_ settings: FinetuneSettings, base: URL, policies: PolicyPack, resume: FinetuneCheckpoint? = nil,
                               onInstructionShortened: (@Sendable (String) -> Void)? = nil) throws -> Prepared {
        let problems = settings.problems()
        guard problems.isEmpty else { throw TrainingError.noData("fine-tuning settings: " + problems.joined(separator: "; ")) }
        let policy = try policies.policy(settings.policy)
        var reports: [String] = []
        let trainSamples = try samples(path: settings.train, policy: settings.policy, skipInvalid: settings.skipInvalid, reports: &reports)
        let valSamples = try settings.val.map { try samples(path: $0, policy: settings.policy, skipInvalid: settings.skipInvalid, reports: &reports) } ?? []
        guard !trainSamples.isEmpty else { throw TrainingError.noData("\(settings.train): no samples for policy '\(settings.policy)'") }
        let recipe = GuardMetadata.Recipe(mode: settings.mode.rawValue, epochs: settings.epochs, batch: settings.batch, lr: settings.lr,
                                          maxLength: settings.maxLength, seed: settings.seed, trainSamples: trainSamples.count,
                                          trainSHA256: try? SHA256.hexDigest(ofFile: settings.train))
        let meta = GuardMetadata(policy: policy.id, instruction: policy.instructionText, inputFormat: settings.input, head: settings.head,
                                 maxLength: settings.maxLength,
                                 baseModelSHA256: try? SHA256.hexDigest(ofFile: base.appendingPathComponent("model.safetensors").path),
                                 recipe: recipe)
        let model = try resume?.loadModel() ?? GuardModel.fromBase(base, metadata: meta, seed: settings.seed)
        model.onInstructionShortened = onInstructionShortened
        // Balanced here, so the CLI and a cluster worker fit the very same examples.
        let fitted = settings.balance == .oversample ? ClassBalance.oversampled(trainSamples, seed: settings.seed) : trainSamples
        if fitted.count > trainSamples.count {
            reports.append("balance: \(fitted.count - trainSamples.count) minority-label samples repeated (\(trainSamples.count) → \(fitted.count)); balance none (--balance none) trains on the data as given")
        }
        let examples = fitted.map { TaskGuardTrainer.Example(text: model.input(for: $0.prompt), label: Int32($0.label.classIndex)) }
        let validation = valSamples.map { (text: model.input(for: $0.prompt), unsafe: $0.label == .unsafe) }
        return Prepared(model: model, examples: examples, validation: validation,
                        counts: Dictionary(grouping: trainSamples, by: \.label).mapValues(\.count), skipReports: reports)
    }

    /// One policy's samples from a JSONL file.
    public static func samples(path: String, policy: String, skipInvalid: Bool, reports: inout [String]) throws -> [Sample] {
        let reader = try SampleReader(path: path, skipInvalid: skipInvalid)
        var out: [Sample] = []
        try reader.forEachSample { if $0.policy == policy { out.append($0) } }
        if reader.skippedCount > 0 { reports.append(reader.skipReport) }
        return out
    }
}
