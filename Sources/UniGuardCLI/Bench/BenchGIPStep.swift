import ArgumentParser
import CommandLineSupport
import EncoderModel
import Foundation
import Guards
import Runtime
import Tokenizers
import Training

/// `uniguard bench gip-step`: full GIP optimizer steps (`GuardrailPretrainer.step` with the default objective:
/// masked pass → MLM, unmasked pass → classification, Alice++'s power iteration and adversarial pass, three
/// backward passes plus the input-only one, clipping, AdamW) at a fixed shape on synthetic token ids, as
/// bench/lib/gip_step_peer.py's PyTorch step. One configuration per process so peak RSS is its own.
struct BenchGIPStep: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gip-step",
                                                    abstract: "GIP (MLM + Alice++ + classification) step speed and peak memory.")

    @OptionGroup var modelOption: ModelDirectoryOption
    @OptionGroup var threads: ThreadOptions
    @Option(help: "Sequences per step.") var batch = 8
    @Option(help: "Tokens per sequence, [CLS] and [SEP] included (every sequence is full).") var seq = 160
    @Option(help: "Timed steps.") var steps = 5
    @Option(help: "Untimed steps first.") var warmup = 1
    @Flag(help: "One JSON line instead of a summary.") var json = false

    /// Three full-length workspaces and a vocabulary-wide MLM logit block per masked token: beyond these the
    /// run is out of memory before it is slow.
    static let batchLimit = 1...4096

    func validate() throws {
        try OptionCheck.within(Self.batchLimit, batch, "--batch")
        try OptionCheck.within(3...TrainingLimits.maxLength.upperBound, seq, "--seq")
        try OptionCheck.within(BenchLimits.runs, steps, "--steps")
        try OptionCheck.within(0...BenchLimits.runs.upperBound, warmup, "--warmup")
    }

    func run() throws {
        threads.apply()
        let dir = try modelOption.directory()
        let positions = try ModelDirectory(dir).config.maxSequenceLength
        try OptionCheck.require(seq <= positions, "--seq must be at most \(positions), the positions of \(dir.path) (got \(seq))")
        let model = try MultiTaskGuard(directory: dir, seed: 1234)
        let rssLoaded = currentRSSMiB()
        let (encodings, labels) = Self.syntheticBatch(rows: batch, seqLen: seq, vocabSize: model.config.vocabSize,
                                                     special: model.tokenizer.special)
        var options = PretrainOptions()  // the defaults `uniguard pretrain` runs: every term on, dropout on
        options.batch = batch; options.maxLength = seq
        let trainer = try GuardrailPretrainer(model: model, options: options)
        var last: PretrainLosses?, skipped = 0
        func step(_ i: Int) throws {
            if let l = try trainer.step(encodings, labels: labels, stepIndex: i, firstRow: i * batch, lr: options.lr) { last = l } else { skipped += 1 }
        }
        for i in 0..<warmup { try step(i) }
        var index = warmup
        let t = try BenchStats.time(runs: steps) { try step(index); index += 1 }
        let total = t.samples.reduce(0, +)
        let median = t.json["median_ms"] as? Double ?? 0
        let result: [String: Any] = [
            "benchmark": "gip-step", "threads": Parallel.threads, "blas_core": BLASRuntime.coreName, "batch": batch, "seq": seq,
            "trainable_params": trainer.optimizer.trainableCount, "steps_timed": steps, "warmup_steps": warmup,
            "skipped_steps": skipped, "masked_tokens_last": last?.maskedTokens ?? 0,
            "step_ms": t.json, "samples_per_s": round3(Double(batch * steps) / total),
            "tokens_per_s": round3(Double(batch * seq * steps) / total),
            "loss_last": ["total": Double(last?.total ?? .nan), "mlm": Double(last?.mlm ?? .nan),
                          "classification": Double(last?.classification ?? .nan),
                          "adversarial": Double(last?.adversarial ?? .nan), "consistency": Double(last?.consistency ?? .nan)],
            "rss_after_load_mib": rssLoaded, "peak_rss_mib": peakRSSMiB(),
        ]
        if json {
            printJSON(result)
        } else {
            print("GIP step \(batch)x\(seq), \(Parallel.threads) threads: \(result["samples_per_s"]!) samples/s, median \(median) ms, "
                  + "peak RSS \(result["peak_rss_mib"]!) MiB (\(steps) timed steps after \(warmup))")
        }
    }

    /// `rows` full sequences of `seqLen` ids ([CLS], non-special ids drawn uniformly, [SEP]) and labels with about
    /// a third unsafe (so `classBalance` weighs the rows unequally, as on a real corpus). The peer draws the same
    /// way (bench/lib/gip_step_peer.py); the ids themselves do not change the work.
    static func syntheticBatch(rows: Int, seqLen: Int, vocabSize: Int, special: SpecialTokens) -> ([Encoding], [Int32]) {
        let never: Set<Int32> = [special.pad, special.unk, special.cls, special.sep, special.mask]
        var rng = RandomSource(seed: 1234)
        let encodings = (0..<rows).map { _ -> Encoding in
            var ids: [Int32] = [special.cls]
            while ids.count < seqLen - 1 {
                let id = Int32(rng.next() % UInt64(vocabSize))
                if !never.contains(id) { ids.append(id) }
            }
            ids.append(special.sep)
            return Encoding(ids: ids, tokens: [])
        }
        return (encodings, (0..<rows).map { Int32($0 % 3 == 0 ? 1 : 0) })
    }
}
