import ArgumentParser
import CommandLineSupport
import EncoderModel
import Foundation
import GuardData
import Runtime
import Tokenizers

/// `uniguard corpus`: build the multi-policy guardrail-instruction pretraining corpus.
struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus",
        abstract: "Build the multi-policy pretraining corpus.",
        subcommands: [CorpusBuildCommand.self]
    )
}

/// `uniguard corpus build`: samples JSONL → instruction-formatted corpus lines with cross-policy pairs.
struct CorpusBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Turn sample files into instruction-formatted corpus lines (own samples + cross-policy pairs), deduplicated.",
        discussion: """
        Every sample becomes `Instruct: <policy phrasing> [SEP] Query: <prompt>` under its own policy (with --for-model, that model's separator token in place of [SEP], e.g. </s> for RoBERTa / XLM-R); every unsafe sample also becomes a safe example for up to --cross-pairs other policies that CrossPolicyRules allows. Prompts are deduplicated before pairing: exactly (normalised text per policy and label) and, unless --no-embedding-dedup, by embedding similarity within mini-batches. Deterministic for a given --seed; the output appears atomically.
        """
    )

    @OptionGroup var policyPack: PolicyPackOption
    @Option(parsing: .upToNextOption, help: "Sample JSONL files (repeatable), read in order.") var data: [String]
    @Option(help: "Output corpus JSONL file.") var out: String
    @Option(help: "Other policies each unsafe prompt becomes a safe example for.") var crossPairs = 1
    @Option(help: "Use only the first N phrasings of each policy instruction (default: all \(PolicyPhrasings.count)).") var phrasings: Int?
    @Option(help: "Seed of the phrasing and pairing choices.") var seed: UInt64 = 0
    @Flag(help: "Append ' [SEP] <rationale>' to own records (off: rationales often state the verdict).") var rationales = false
    @Flag(help: "Skip malformed lines and samples of policies not in the pack (counted and reported).") var skipInvalid = false
    @Option(help: "Leave this policy out entirely (repeatable): no samples, no pairs from or to it.") var excludePolicy: [String] = []
    @Option(help: "Prompts embedded together for near-duplicate detection.") var dedupBatch = 256
    @Option(help: "Cosine similarity at or above which a prompt is a near duplicate of an earlier one (same policy and label).") var nearDupThreshold: Float = 0.95
    @Option(help: "Kept embeddings per policy and label that later batches are compared with.") var nearDupWindow = 1024
    @Flag(help: "Skip near-duplicate detection by embeddings (exact dedup still runs).") var noEmbeddingDedup = false
    @Option(help: "Model directory the corpus is for: its tokenizer's separator token goes between segments (default: BERT's [SEP]; RoBERTa / XLM-R use </s>).") var forModel: String?
    @Option(help: "Encoder for near-duplicate detection (default: the cached all-MiniLM-L6-v2).") var embedModel: String?
    @Option(help: "Tokens of each prompt the near-duplicate encoder reads (a prompt's gist is in its first 128).") var embedMaxLength = 128
    @OptionGroup var threads: ThreadOptions

    /// Seconds between progress lines (UNIGUARD_PROGRESS_SECONDS overrides it, e.g. for tests).
    static let progressInterval = ProcessInfo.processInfo.environment["UNIGUARD_PROGRESS_SECONDS"].flatMap(Double.init) ?? 5

    // The same bounds CorpusBuilder enforces, checked here so a bad value is a usage error before any work.
    func validate() throws {
        try OptionCheck.require(!data.isEmpty, "pass at least one --data FILE")
        try OptionCheck.atLeast(0, crossPairs, "--cross-pairs")
        try OptionCheck.within(1...PolicyPhrasings.count, phrasings, "--phrasings")
        try OptionCheck.within(1...1_000_000, dedupBatch, "--dedup-batch")
        try OptionCheck.require(nearDupThreshold > 0 && nearDupThreshold <= 1, "--near-dup-threshold must be in (0, 1] (got \(nearDupThreshold))")
        try OptionCheck.atLeast(0, nearDupWindow, "--near-dup-window")
        try OptionCheck.within(TrainingLimits.maxLength, embedMaxLength, "--embed-max-length")
    }

    func run() throws {
        threads.apply()
        let directory = try policyPack.directory()
        let pack = try PolicyPack.load(directory: directory)
        var options = CorpusOptions()
        options.crossPairs = crossPairs; options.phrasings = phrasings; options.seed = seed
        options.includeRationales = rationales; options.skipInvalid = skipInvalid
        options.excludedPolicies = Set(excludePolicy); options.dedupBatch = dedupBatch
        options.nearDuplicateThreshold = nearDupThreshold; options.nearDuplicateWindow = nearDupWindow
        if let forModel { options.separator = InstructionFormat.separator(of: try TokenizerLoader.load(directory: URL(fileURLWithPath: forModel))) }
        var embedder: SentenceEmbedder?
        if !noEmbeddingDedup {
            let dir = try embedModel.map { URL(fileURLWithPath: $0) } ?? UniGuardHome.requireBaseModel()
            embedder = try SentenceEmbedder(directory: dir, maxLength: embedMaxLength)
        }
        try OutputPath.refuseInputs(out, data.map { ("--data", $0) })
        let builder = try CorpusBuilder(pack: pack, options: options, embedder: embedder)
        let excluded = excludePolicy.isEmpty ? "" : ", excluding \(excludePolicy.sorted().joined(separator: ", "))"
        note("corpus: \(data.count) file\(data.count == 1 ? "" : "s"), policies from \(directory)\(excluded); cross pairs \(crossPairs), phrasings \(options.phrasingCount), seed \(seed), near-dup \(noEmbeddingDedup ? "off" : "≥ \(nearDupThreshold) per batch of \(dedupBatch)")")
        let started = Date()
        var lastProgress = started
        builder.onProgress = { read, written in
            // A line every few seconds on stderr: a large build runs for minutes.
            guard Date().timeIntervalSince(lastProgress) >= CorpusBuildCommand.progressInterval else { return }
            lastProgress = Date()
            note(String(format: "corpus: %d samples read, %d records written (%.0f s)", read, written, lastProgress.timeIntervalSince(started)))
        }
        let report = try builder.build(inputs: data, output: out)
        let seconds = Date().timeIntervalSince(started)
        for text in report.skipReports { note(text) }
        note("samples read \(report.samplesRead), skipped invalid \(report.skippedInvalid), excluded \(report.excludedSamples), exact duplicates dropped \(report.exactDuplicates), near duplicates dropped \(report.nearDuplicates)")
        note("records written \(report.recordsWritten) to \(out)" + String(format: " in %.1f s (%.0f records/s); %d dedup keys", seconds, Double(report.recordsWritten) / max(seconds, 1e-9), report.dedupKeys))
        note(report.table)
        note(report.phrasingLine)
        if report.unpairedUnsafe > 0 { note("\(report.unpairedUnsafe) unsafe prompts got no cross pair (no eligible policy under CrossPolicyRules, e.g. prompt_injection)") }
        if report.labelConflicts > 0 { warn("\(report.labelConflicts) prompts are both safe and unsafe under one policy; both were kept, fix the data") }
    }
}
