import ArgumentParser
import CommandLineSupport
import EncoderModel
import Foundation
import Runtime
import Tokenizers

/// `uniguard bench infer`: MiniLM + mean pooling + Linear(h, 2), as the peer benchmark's classifier.
struct BenchInfer: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "infer", abstract: "Batch-1 latency and batch-32x64 throughput; one JSON line.")

    @OptionGroup var modelOption: ModelDirectoryOption
    @OptionGroup var threads: ThreadOptions

    @Option(help: "Timed batch-1 runs.") var runs = 200
    @Option(help: "Untimed batch-1 runs first.") var warmup = 20
    @Option(help: "Timed batch-32 runs.") var throughputIters = 20

    /// The peer benchmark's ~48-token prompt.
    static let prompt = "The quarterly report shows that customer satisfaction improved after we shipped the new onboarding flow, but several enterprise clients still complain about slow response times from the support team during the peak hours on weekdays, especially in Europe and Asia last month."
    static let words = "model training data batch token layer weight gradient server request latency user text label class positive negative review product service quality price delivery support fast slow good bad great terrible the a and of to in is was it for on with as this that very not but".split(separator: " ").map(String.init)

    func validate() throws {
        try OptionCheck.within(BenchLimits.runs, runs, "--runs")
        try OptionCheck.within(0...BenchLimits.runs.upperBound, warmup, "--warmup")
        try OptionCheck.within(BenchLimits.runs, throughputIters, "--throughput-iters")
    }

    func run() throws {
        threads.apply()
        let dir = try modelOption.directory()
        let tokenizer = try TokenizerLoader.load(directory: dir)
        let encoder = try ModelDirectory(dir).loadEncoder()
        let h = encoder.config.hiddenSize
        let ws = EncoderWorkspace(config: encoder.config, training: false)
        var rng = SystemRandomNumberGenerator()
        let head = Tensor(shape: [2, h], values: (0..<(2 * h)).map { _ in Float.random(in: -0.02...0.02, using: &rng) })
        let bias = Tensor(zeros: [2])

        func classify(_ batch: TokenBatch) throws {
            let hidden = try encoder.forward(batch, workspace: ws)
            let pooled = Tensor(zeros: [batch.batch, h])
            Pooling.mean(hidden, mask: batch.mask, batch: batch.batch, seqLen: batch.seqLen, hidden: h, into: pooled.data)
            let logits = Tensor(zeros: [batch.batch, 2])
            BLAS.linear(pooled.data, rows: batch.batch, inFeatures: h, weight: head.data, bias: bias.data, outFeatures: 2, into: logits.data)
        }

        let one = tokenizer.batch([Self.prompt], maxLength: 512)
        for _ in 0..<warmup { try classify(one) }
        let lat = try BenchStats.time(runs: runs) { try classify(one) }
        let e2e = try BenchStats.time(runs: runs) { try classify(tokenizer.batch([Self.prompt], maxLength: 512)) }

        var g = RandomSource(seed: 1234)
        let texts = (0..<32).map { _ in (0..<300).map { _ in Self.words[Int(g.next() % UInt64(Self.words.count))] }.joined(separator: " ") }
        let big = tokenizer.batch(texts, maxLength: 64)
        precondition(big.seqLen == 64 && big.lengths.allSatisfy { $0 == 64 })
        for _ in 0..<3 { try classify(big) }
        let tp = try BenchStats.time(runs: throughputIters) { try classify(big) }
        let total = tp.samples.reduce(0, +)
        printJSON([
            "threads": Parallel.threads, "blas_core": BLASRuntime.coreName,
            "latency_prompt_tokens": one.seqLen,
            "latency_b1_forward": lat.json, "latency_b1_tokenize_plus_forward": e2e.json,
            "throughput_b32_s64": ["iters": throughputIters, "batch_ms": tp.json,
                                   "seq_per_s": round3(32 * Double(throughputIters) / total),
                                   "tokens_per_s": round3(32 * 64 * Double(throughputIters) / total)],
            "peak_rss_mib": peakRSSMiB(),
        ])
    }
}
