import ArgumentParser
import CommandLineSupport
import Foundation
import GuardData
import Guards
import Runtime
import Training

/// `uniguard train`: fine-tune a TaskGuard for one policy and write its model directory.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Fine-tune a TaskGuard (one policy) and write its model directory.",
        discussion: "With --checkpoint-every N, OUT/checkpoints/step-N holds a resumable checkpoint every N steps and at the last step; --resume OUT (or a checkpoint directory) continues from the latest with the same results as an uninterrupted run (give the same data and settings).")

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
    @Option(help: "Steps between resumable checkpoints under OUT/checkpoints (default 0: none).") var checkpointEvery = 0
    @Option(help: "Continue from a checkpoint directory, or the latest checkpoint under a previous --out.") var resume: String?
    @OptionGroup var policyPack: PolicyPackOption
    @Flag(help: "Skip malformed sample lines (counted and reported) instead of stopping at the first.") var skipInvalid = false
    @Flag(help: "Disable dropout (deterministic, PyTorch-comparable loss).") var noDropout = false
    @Option(help: "Decision threshold: max validation F1 with false-positive rate at most this (0-1; needs --val).") var targetFpr: Double = 0.05
    @Option(help: "oversample (repeat the minority label until both labels are equally frequent) or none.") var balance: TrainBalance = .oversample
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        try OptionCheck.within(TrainingLimits.epochs, epochs, "--epochs")
        try TrainingLimits.check(batch: batch, lr: lr, maxLength: maxLength)
        try OptionCheck.atLeast(0, checkpointEvery, "--checkpoint-every")
        try OptionCheck.require(targetFpr >= 0 && targetFpr <= 1, "--target-fpr must be in [0, 1] (got \(targetFpr))")
    }

    /// The options as the settings a cluster job would carry.
    var settings: FinetuneSettings {
        var s = FinetuneSettings(train: train, policy: policy)
        s.base = base; s.val = val; s.policies = policyPack.policies; s.epochs = epochs; s.mode = mode; s.input = input; s.head = head
        s.batch = batch; s.lr = lr; s.maxLength = maxLength; s.seed = seed; s.dropout = !noDropout; s.checkpointEvery = checkpointEvery
        s.skipInvalid = skipInvalid; s.balance = balance; s.targetFPR = targetFpr
        return s
    }

    func run() throws {
        threads.apply()
        let settings = self.settings
        let baseDir = try base.map { URL(fileURLWithPath: $0) } ?? UniGuardHome.requireBaseModel()
        let outURL = URL(fileURLWithPath: out)
        let checkpoint = try resume.map { try FinetuneCheckpoint.locate(URL(fileURLWithPath: $0)) }
        // Everything that would make the final write fail or destroy an input is checked before training.
        try OutputPath.refuseInputs(out, [("--base", baseDir.path), ("--train", train)] + (val.map { [("--val", $0)] } ?? []))
        try OutputPath.requireModelDirectory(out)
        try TrainingLimits.checkPositions(maxLength: maxLength, model: baseDir)

        let job = try FinetuneJob.prepare(settings, base: baseDir, policies: try policyPack.load(), resume: checkpoint,
                                          onInstructionShortened: { warn($0) })
        job.skipReports.forEach { note($0) }
        let model = job.model
        note("train: policy \(policy), \(job.examples.count) samples (safe \(job.counts[.safe] ?? 0), unsafe \(job.counts[.unsafe] ?? 0)), validation \(job.validation.count); mode \(mode.rawValue), \(epochs) epochs x batch \(batch), lr \(lr), \(BLASRuntime.coreName) BLAS")
        for label in [SafetyLabel.safe, .unsafe] where job.counts[label] == nil {
            warn("\(train) has no \(label.rawValue) samples for policy '\(policy)': the model can only learn to answer '\(label == .safe ? "unsafe" : "safe")'")
        }
        let run = try FinetuneRun(model: model, options: settings.options, examples: job.examples, validation: job.validation,
                                  output: checkpointEvery > 0 ? outURL : nil)
        run.targetFPR = targetFpr
        run.validationSource = val
        if let checkpoint {
            try run.resume(from: checkpoint)
            note("train: resuming from \(checkpoint.directory.path) at step \(checkpoint.step)/\(run.totalSteps)")
        }
        let display = ProgressDisplay()
        try run.run(onProgress: display.update, onEpoch: { e in
            if let v = e.validation {
                note(String(format: "epoch %d: train loss %.4f  validation F1 %.4f  precision %.4f  recall %.4f  accuracy %.4f%@",
                            e.epoch, e.trainLoss, v.f1, v.precision, v.recall, v.accuracy, e.skippedSteps > 0 ? "  (\(e.skippedSteps) non-finite steps skipped)" : ""))
            } else {
                note(String(format: "epoch %d: train loss %.4f", e.epoch, e.trainLoss))
            }
        }, onCheckpoint: { dir, _ in note("checkpoint: \(dir.path)") })
        TrainBalance.report(run.calibration, model: model, hasValidation: !job.validation.isEmpty)
        // The checkpoints stay beside the model so the run can still be resumed or inspected.
        try run.saveModel(to: outURL)
        note("wrote \(out)")
    }
}
