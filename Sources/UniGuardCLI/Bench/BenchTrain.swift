import ArgumentParser
import CommandLineSupport
import EncoderModel
import Foundation
import Guards
import Runtime
import Training

/// `uniguard bench train`: full fine-tune steps (forward + backward + AdamW) of MiniLM + mean pool +
/// Linear(h, 2), as the peer benchmark's PyTorch step; one configuration per process so peak RSS is its own.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Training-step speed and peak memory; one JSON line.")

    @OptionGroup var modelOption: ModelDirectoryOption
    @OptionGroup var threads: ThreadOptions
    @Option(help: "Sequences per step.") var batch = 32
    @Option(help: "Tokens per sequence (every sequence is full).") var seq = 64
    @Option(help: "Timed steps.") var steps = 15
    @Option(help: "Untimed steps first.") var warmup = 3

    func validate() throws {
        try OptionCheck.within(TrainingLimits.batch, batch, "--batch")
        try OptionCheck.within(2...BenchTrain.longestSequence, seq, "--seq")
        try OptionCheck.within(BenchLimits.runs, steps, "--steps")
        try OptionCheck.within(0...BenchLimits.runs.upperBound, warmup, "--warmup")
    }

    /// The synthetic texts are 300 words, so longer sequences could not be filled.
    static let longestSequence = 256

    func run() throws {
        threads.apply()
        let dir = try modelOption.directory()
        let meta = GuardMetadata(policy: "bench", instruction: "", inputFormat: .prompt, head: .mean, maxLength: seq)
        let model = try GuardModel.fromBase(dir, metadata: meta, seed: 1234)
        let rssLoaded = currentRSSMiB()
        var g = RandomSource(seed: 1234)
        let texts = (0..<batch).map { _ in (0..<300).map { _ in BenchInfer.words[Int(g.next() % UInt64(BenchInfer.words.count))] }.joined(separator: " ") }
        let tokens = model.tokenizer.batch(texts, maxLength: seq)
        precondition(tokens.seqLen == seq && tokens.lengths.allSatisfy { $0 == seq })
        let labels = (0..<batch).map { _ in Int32(g.next() % 2) }
        var opts = TrainingOptions()
        opts.lr = 2e-5
        let trainer = TaskGuardTrainer(model: model, options: opts)
        var losses: [Float] = []
        for i in 0..<warmup { _ = try trainer.step(tokens, labels: labels, stepIndex: i, lr: opts.lr) }
        let t = try BenchStats.time(runs: steps) {
            if let l = try trainer.step(tokens, labels: labels, stepIndex: warmup + losses.count, lr: opts.lr) { losses.append(l) }
        }
        let total = t.samples.reduce(0, +)
        printJSON([
            "threads": Parallel.threads, "blas_core": BLASRuntime.coreName, "batch": batch, "seq": seq,
            "trainable_params": trainer.optimizer.trainableCount, "steps_timed": steps, "warmup_steps": warmup,
            "step_ms": t.json, "samples_per_s": round3(Double(batch * steps) / total),
            "tokens_per_s": round3(Double(batch * seq * steps) / total),
            "loss_first_last": [Double(losses.first ?? .nan), Double(losses.last ?? .nan)],
            "rss_after_load_mib": rssLoaded, "peak_rss_mib": peakRSSMiB(),
        ])
    }
}

/// Current resident set size in MiB (VmRSS).
func currentRSSMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return (kb / 1024 * 10).rounded() / 10
}
