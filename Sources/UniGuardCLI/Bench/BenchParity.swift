import ArgumentParser
import CommandLineSupport
import Foundation
import GuardData
import Guards
import Training

/// `uniguard bench parity`: the first N fine-tuning steps with dropout off over batches in file order,
/// from an initial model it saves, so `bench/parity` can replay them in PyTorch and compare losses.
struct BenchParity: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "parity", abstract: "Losses of N deterministic training steps; one JSON line.")

    @OptionGroup var modelOption: ModelDirectoryOption
    @OptionGroup var threads: ThreadOptions
    @Option(help: "Samples JSONL; batches are taken in file order.") var data: String
    @Option(help: "Directory the initial model (base + fresh head) is written to.") var initOut: String
    @Option(help: "Training steps.") var steps = 20
    @Option(help: "Samples per step.") var batch = 8
    @Option(help: "Truncate inputs to N tokens.") var maxLength = 32
    @Option(help: "Learning rate (constant).") var lr: Double = 2e-5
    @Option var seed: UInt64 = 1

    func validate() throws {
        try OptionCheck.within(BenchLimits.runs, steps, "--steps")
        try TrainingLimits.check(batch: batch, lr: lr, maxLength: maxLength)
    }

    func run() throws {
        threads.apply()
        let meta = GuardMetadata(policy: "parity", instruction: "", inputFormat: .prompt, head: .mean, maxLength: maxLength)
        let model = try GuardModel.fromBase(try modelOption.directory(), metadata: meta, seed: seed)
        try model.save(to: URL(fileURLWithPath: initOut))
        let samples = try SampleReader.readAll(path: data)
        guard samples.count >= steps * batch else { throw CommandFailure("\(data) holds \(samples.count) samples; need \(steps * batch)") }
        var opts = TrainingOptions()
        opts.dropout = false
        opts.maxGradNorm = 1
        opts.weightDecay = 0.01
        let trainer = TaskGuardTrainer(model: model, options: opts)
        var losses: [Double] = []
        for s in 0..<steps {
            let rows = samples[(s * batch)..<((s + 1) * batch)]
            let tokens = model.tokenizer.batch(rows.map(\.prompt), maxLength: maxLength)
            guard let loss = try trainer.step(tokens, labels: rows.map { Int32($0.label.classIndex) }, stepIndex: s, lr: Float(lr)) else {
                throw TrainingError.nonFiniteLoss(step: s, lr: Float(lr))
            }
            losses.append(Double(loss))
        }
        printJSON(["losses": losses, "steps": steps, "batch": batch, "max_length": maxLength, "lr": lr])
    }
}
