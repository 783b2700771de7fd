import ArgumentParser
import CommandLineSupport
import Foundation
import GuardData
import Guards
import Runtime
import Training

/// `uniguard pretrain`: guardrail-instruction pretraining of a MultiTaskGuard on a corpus from `uniguard corpus build`.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pretrain",
        abstract: "Pretrain a MultiTaskGuard (MLM + Alice++ + classification) on an instruction-formatted corpus.",
        discussion: "Checkpoints go to OUT/checkpoints/step-N every --checkpoint-every steps and at the last step (--keep-checkpoints N keeps the newest N); --resume OUT (or a checkpoint directory) continues from the last one with the same results as an uninterrupted run. Unset options take the defaults, or on --resume the checkpoint's values; a larger --steps on --resume extends the run to the new total (the learning-rate schedule is laid over the new total from there on).")

    @Option(help: "Base encoder directory (default: the cached all-MiniLM-L6-v2).") var base: String?
    @Option(help: "Corpus JSONL from `uniguard corpus build`.") var corpus: String
    @Option(help: "Output model directory (checkpoints go to OUT/checkpoints).") var out: String
    @Option(help: "Total optimizer steps (default 1000).") var steps: Int?
    @Option(help: "Sequences per step (default 16).") var batch: Int?
    @Option(help: "Peak learning rate (default 5e-5).") var lr: Double?
    @Option(help: "Truncate inputs to N tokens (default 256: policy texts are 100-130 tokens).") var maxLength: Int?
    @Option var seed: UInt64?
    @Option(help: "Weight a of the MLM loss (default 1; 0 turns masking off).") var mlmWeight: Double?
    @Option(help: "Weight b of Alice++ (adversarial CE + KL) (default 1; 0 skips the adversarial passes).") var vatWeight: Double?
    @Option(help: "Weight c of the classification loss (default 1).") var clsWeight: Double?
    @Option(help: "Alice++ perturbation size: average L2 norm per token (default 0.1).") var vatEpsilon: Double?
    @Option(help: "MLM masking rate (default 0.15).") var maskRate: Double?
    @Option(help: "Steps between checkpoints (default 100; 0 = none).") var checkpointEvery: Int?
    @Option(help: "Keep only the newest N checkpoints (default: all).") var keepCheckpoints: Int?
    @Option(help: "Continue from a checkpoint directory, or the latest checkpoint under a previous --out.") var resume: String?
    @Flag(help: "Disable dropout.") var noDropout = false
    @Flag(inversion: .prefixedNo, help: "Classification and Alice++ read the unmasked sequence, as inference does (a second encoder pass; default on).")
    var clsOnUnmasked: Bool?
    @Flag(inversion: .prefixedNo, help: "Weigh safe and unsafe rows so both classes count equally in every batch (default on).")
    var classBalance: Bool?
    @Option(help: "Validation samples (JSONL, e.g. `data split`'s val.jsonl): after training, the decision threshold is chosen on those of the corpus's policies (max F1 with FPR at most --target-fpr), as `uniguard calibrate` does.")
    var val: String?
    @Option(help: "False-positive-rate cap for the threshold chosen on --val (0-1).") var targetFpr: Double = 0.05
    @OptionGroup var policyPack: PolicyPackOption
    @Flag(help: "Skip malformed corpus lines (counted) instead of stopping at the first.") var skipInvalid = false
    @OptionGroup var threads: ThreadOptions

    /// The options given; unset ones come from the defaults or the checkpoint, which were checked when written.
    func validate() throws {
        try OptionCheck.within(TrainingLimits.steps, steps, "--steps")
        try TrainingLimits.check(batch: batch, lr: lr, maxLength: maxLength, minimumLength: 8)
        for (name, weight) in [("--mlm-weight", mlmWeight), ("--vat-weight", vatWeight), ("--cls-weight", clsWeight)] {
            try OptionCheck.nonNegative(weight, name)
        }
        try OptionCheck.require(![mlmWeight, vatWeight, clsWeight].allSatisfy { $0 == 0 }, "at least one loss weight must be positive")
        try OptionCheck.positive(vatEpsilon, "--vat-epsilon")
        if let maskRate { try OptionCheck.require(maskRate > 0 && maskRate < 1, "--mask-rate must be in (0, 1) (got \(maskRate))") }
        try OptionCheck.atLeast(0, checkpointEvery, "--checkpoint-every")
        try OptionCheck.atLeast(1, keepCheckpoints, "--keep-checkpoints")
        try OptionCheck.require(targetFpr >= 0 && targetFpr <= 1, "--target-fpr must be in [0, 1] (got \(targetFpr))")
    }

    /// Explicit options over `start` (defaults, or the checkpoint's settings).
    func options(over start: PretrainOptions) -> PretrainOptions {
        var o = start
        if let steps { o.steps = steps }
        if let batch { o.batch = batch }
        if let lr { o.lr = Float(lr) }
        if let maxLength { o.maxLength = maxLength }
        if let seed { o.seed = seed }
        if let mlmWeight { o.mlmWeight = Float(mlmWeight) }
        if let vatWeight { o.vatWeight = Float(vatWeight) }
        if let clsWeight { o.clsWeight = Float(clsWeight) }
        if let vatEpsilon { o.vatEpsilon = Float(vatEpsilon) }
        if let maskRate { o.maskRate = Float(maskRate) }
        if let checkpointEvery { o.checkpointEvery = checkpointEvery }
        if noDropout { o.dropout = false }
        if let clsOnUnmasked { o.clsOnUnmasked = clsOnUnmasked }
        if let classBalance { o.classBalance = classBalance }
        return o
    }

    func run() throws {
        threads.apply()
        let outURL = URL(fileURLWithPath: out)
        let checkpoint = try resume.map { try PretrainCheckpoint.locate(URL(fileURLWithPath: $0)) }
        let opts = options(over: checkpoint?.options ?? PretrainOptions())
        // A checkpoint's weights with the explicit ones can still all be 0.
        guard opts.mlmWeight + opts.vatWeight + opts.clsWeight > 0 else { throw CommandFailure("at least one loss weight must be positive") }
        let modelDir = try checkpoint?.directory ?? base.map { URL(fileURLWithPath: $0) } ?? UniGuardHome.requireBaseModel()
        // The final write must not fail after hours of training, nor replace an input.
        try OutputPath.refuseInputs(out, [("--corpus", corpus)] + (checkpoint == nil ? [("--base", modelDir.path)] : []) + (val.map { [("--val", $0)] } ?? []))
        if let val, !FileManager.default.isReadableFile(atPath: val) { throw CommandFailure("--val \(val): no such readable file") }
        try OutputPath.requireModelDirectory(out)
        try TrainingLimits.checkPositions(maxLength: opts.maxLength, model: modelDir)
        let index = try CorpusIndex(path: corpus, skipInvalid: skipInvalid)
        if index.skipped > 0 { note("\(corpus): skipped \(index.skipped) malformed lines") }
        let model = try MultiTaskGuard(directory: modelDir, seed: opts.seed)
        let run = try PretrainRun(model: model, corpus: index, options: opts, output: outURL)
        run.keepCheckpoints = keepCheckpoints
        if let checkpoint {
            try run.resume(from: checkpoint)
            note("pretrain: resuming from \(checkpoint.directory.path) at step \(checkpoint.step)/\(opts.steps)")
        }
        let policies = index.counts.keys.sorted()
        let perPolicy = policies.map { p in "\(p) \(index.counts[p]?[.safe] ?? 0)/\(index.counts[p]?[.unsafe] ?? 0)" }.joined(separator: ", ")
        note("pretrain: corpus \(index.count) records over \(policies.count) policies (safe/unsafe: \(perPolicy))")
        note(String(format: "pretrain: %d steps x batch %d, max length %d, lr %g; loss = %g·MLM + %g·Alice++(eps %g) + %g·classification; %@ BLAS",
                    opts.steps, opts.batch, opts.maxLength, opts.lr, opts.mlmWeight, opts.vatWeight, opts.vatEpsilon, opts.clsWeight, BLASRuntime.coreName))
        let total = index.counts.values.reduce((0, 0)) { ($0.0 + ($1[.safe] ?? 0), $0.1 + ($1[.unsafe] ?? 0)) }
        note("pretrain: classification and Alice++ read the \(opts.clsOnUnmasked ? "unmasked" : "masked") sequence; classes \(opts.classBalance ? "balanced per batch" : "unweighted") (corpus \(total.1) unsafe of \(total.0 + total.1), \(total.0 + total.1 > 0 ? 100 * total.1 / (total.0 + total.1) : 0)%)")
        let display = ProgressDisplay()
        let mean = try run.run(onProgress: { p, _ in display.update(p) }) { dir, _ in
            note("checkpoint: \(dir.path)")
        }
        note(String(format: "pretrain: mean loss over this run %.4f (MLM %.4f, classification %.4f, adversarial CE %.4f, KL %.4f)",
                    mean.total, mean.mlm, mean.classification, mean.adversarial, mean.consistency))
        try run.saveModel(to: outURL, policies: policies, corpusName: corpus)
        if let val {
            // The pretraining policies only: a policy left out of the corpus must stay unseen for zero-shot use.
            try ValidationCalibration.apply(modelDirectory: outURL, val: val, policies: nil, pack: policyPack.policies,
                                            targetFPR: targetFpr, skipInvalid: skipInvalid)
        }
        note("wrote \(out) (a MultiTaskGuard: classify with --policy FILE.yaml|ID)")
    }
}
