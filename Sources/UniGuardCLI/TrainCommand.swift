import ArgumentParser
import CommandLineSupport
import Foundation
import GuardData
import Guards
import Runtime
import Training

/// `uniguard train`: fine-tune a TaskGuard for one policy and write its model directory.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Fine-tune a TaskGuard (one policy) and write its model directory.")

    @Option(help: "Base model directory (default: the cached all-MiniLM-L6-v2).") var base: String?
    @Option(help: "Policy id; its samples are taken from the data files.") var policy: String
    @Option(help: "Training samples (JSONL).") var train: String
    @Option(help: "Validation samples (JSONL); F1 is reported after each epoch.") var val: String?
    @Option(help: "Output model directory.") var out: String
    @Option(help: "fft (full fine-tuning) or cft (classifier layer only).") var mode: TrainingOptions.Mode = .fft
    @Option(help: "Passes over the training samples.") var epochs = 3
    @Option(help: "Samples per optimizer step.") var batch = 16
    @Option(help: "Peak learning rate.") var lr: Double = 5e-5
    @Option(help: "Truncate inputs to N tokens.") var maxLength = 128
    @Option var seed: UInt64 = 42
    @Option(help: "prompt (the prompt alone) or instruction (Instruct: <policy> [SEP] Query: <prompt>).")
    var input: GuardMetadata.InputFormat = .prompt
    @Option(help: "mean (mean pooling + linear) or cls (BertForSequenceClassification layout).") var head: GuardMetadata.HeadKind = .mean
    @OptionGroup var policyPack: PolicyPackOption
    @Flag(help: "Skip malformed sample lines (counted and reported) instead of stopping at the first.") var skipInvalid = false
    @Flag(help: "Disable dropout (deterministic, PyTorch-comparable loss).") var noDropout = false
    @Option(help: "Decision threshold: max validation F1 with false-positive rate at most this (0-1; needs --val).") var targetFpr: Double = 0.05
    @Option(help: "oversample (repeat the minority label until both labels are equally frequent) or none.") var balance: TrainBalance = .oversample
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        try OptionCheck.within(TrainingLimits.epochs, epochs, "--epochs")
        try TrainingLimits.check(batch: batch, lr: lr, maxLength: maxLength)
        try OptionCheck.require(targetFpr >= 0 && targetFpr <= 1, "--target-fpr must be in [0, 1] (got \(targetFpr))")
    }

    func run() throws {
        threads.apply()
        let pol = try policyPack.load().policy(policy)
        let baseDir = try base.map { URL(fileURLWithPath: $0) } ?? UniGuardHome.requireBaseModel()
        // Everything that would make the final write fail or destroy an input is checked before training.
        try OutputPath.refuseInputs(out, [("--base", baseDir.path), ("--train", train)] + (val.map { [("--val", $0)] } ?? []))
        try OutputPath.requireModelDirectory(out)
        try TrainingLimits.checkPositions(maxLength: maxLength, model: baseDir)

        let trainSamples = try PolicyData.samples(path: train, policy: policy, skipInvalid: skipInvalid)
        let valSamples = try val.map { try PolicyData.samples(path: $0, policy: policy, skipInvalid: skipInvalid) } ?? []
        guard !trainSamples.isEmpty else { throw TrainingError.noData("\(train): no samples for policy '\(policy)'") }

        var opts = TrainingOptions()
        opts.mode = mode; opts.epochs = epochs; opts.batch = batch; opts.lr = Float(lr); opts.seed = seed; opts.dropout = !noDropout
        let recipe = GuardMetadata.Recipe(mode: mode.rawValue, epochs: epochs, batch: batch, lr: lr, maxLength: maxLength,
                                          seed: seed, trainSamples: trainSamples.count, trainSHA256: try? SHA256.hexDigest(ofFile: train))
        let meta = GuardMetadata(policy: pol.id, instruction: pol.instructionText, inputFormat: input, head: head,
                                 maxLength: maxLength, baseModelSHA256: try? SHA256.hexDigest(ofFile: baseDir.appendingPathComponent("model.safetensors").path),
                                 recipe: recipe)
        let model = try GuardModel.fromBase(baseDir, metadata: meta, seed: seed)
        model.onInstructionShortened = { warn($0) }
        let examples = balance.apply(trainSamples, seed: seed).map { TaskGuardTrainer.Example(text: model.input(for: $0.prompt), label: Int32($0.label.classIndex)) }
        let validation = valSamples.map { (text: model.input(for: $0.prompt), unsafe: $0.label == .unsafe) }
        let counts = Dictionary(grouping: trainSamples, by: \.label).mapValues(\.count)
        note("train: policy \(policy), \(trainSamples.count) samples (safe \(counts[.safe] ?? 0), unsafe \(counts[.unsafe] ?? 0)), validation \(valSamples.count); mode \(mode.rawValue), \(epochs) epochs x batch \(batch), lr \(lr), \(BLASRuntime.coreName) BLAS")
        for label in [SafetyLabel.safe, .unsafe] where counts[label] == nil {
            warn("\(train) has no \(label.rawValue) samples for policy '\(policy)': the model can only learn to answer '\(label == .safe ? "unsafe" : "safe")'")
        }
        let display = ProgressDisplay()
        var best: Double?
        try TaskGuardTrainer(model: model, options: opts).train(examples, validation: validation, onProgress: display.update) { e in
            if let v = e.validation {
                best = v.f1
                note(String(format: "epoch %d: train loss %.4f  validation F1 %.4f  precision %.4f  recall %.4f  accuracy %.4f%@",
                            e.epoch, e.trainLoss, v.f1, v.precision, v.recall, v.accuracy, e.skippedSteps > 0 ? "  (\(e.skippedSteps) non-finite steps skipped)" : ""))
            } else {
                note(String(format: "epoch %d: train loss %.4f", e.epoch, e.trainLoss))
            }
        }
        model.metadata.validationF1 = best
        TrainBalance.calibrate(model, validation: validation, targetFPR: targetFpr)
        try model.save(to: URL(fileURLWithPath: out))
        note("wrote \(out)")
    }
}
