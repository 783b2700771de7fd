import Foundation
import GuardData
import Runtime

/// A whole `uniguard synthesize` run: plans batches per (policy, label) until each has `countPerLabel`
/// accepted samples, keeps `concurrency` batches in flight, deduplicates each finished batch (exactly, then by
/// embedding with the corpus builder's `NearDuplicateFilter`) against everything accepted so far, and commits
/// it through the `SynthesisLedger`. Batches commit in the order they finish; a resumed run rebuilds the dedup
/// state from the output and asks only for batches not yet committed.
public final class SynthesisRun {
    public let policies: [Policy]
    public let generator: BatchGenerator
    public let options: SynthesisOptions
    public let ledger: SynthesisLedger
    /// Called after every committed batch.
    public var onProgress: ((SynthesisProgress) -> Void)?
    /// Notes for the user (resume, truncation, stalls).
    public var onNote: ((String) -> Void)?

    private let embedder: (any PromptEmbedding)?
    private let groupIndex: [String: Int]
    private var exact = ExactDeduplicator()
    private var near: NearDuplicateFilter?

    /// The text that fixes which data an output holds; `SynthesisLedger` refuses to resume under another.
    public static func identity(policies: [Policy], settings: GenerationSettings, options: SynthesisOptions, embedding: Bool) -> String {
        let digests = policies.map { p in
            "\(p.id)=" + String(Runtime.SHA256.hex(Runtime.SHA256.hash(PolicyDescription.text(p))).prefix(12))
        }
        return "policies [\(digests.joined(separator: ", "))], model \(settings.model), seed \(options.seed), "
            + "reflection \(settings.reflection?.rawValue ?? "off"), near-dup \(embedding ? "≥ \(options.nearDuplicateThreshold) window \(options.nearDuplicateWindow)" : "off")"
    }

    public init(policies: [Policy], generator: BatchGenerator, options: SynthesisOptions, embedder: (any PromptEmbedding)?, outputPath: String) throws {
        guard !policies.isEmpty else { throw SynthesisError("no policy to synthesize for") }
        guard options.countPerLabel >= 1, options.batchSize >= 1, options.concurrency >= 1 else {
            throw SynthesisError("count, batch size and concurrency must be at least 1")
        }
        self.policies = policies
        self.generator = generator
        self.options = options
        self.embedder = embedder
        groupIndex = Dictionary(uniqueKeysWithValues: policies.enumerated().map { ($1.id, $0) })
        let identity = Self.identity(policies: policies, settings: generator.settings, options: options, embedding: embedder != nil)
        ledger = try SynthesisLedger(outputPath: outputPath, identity: identity)
    }

    private var groupKeys: [(policy: Policy, label: SafetyLabel, key: String)] {
        policies.flatMap { p in [SafetyLabel.unsafe, .safe].map { (p, $0, SynthesisState.key(policy: p.id, label: $0)) } }
    }

    public func run() async throws -> SynthesisReport {
        let started = Date()
        let baseUsage = ledger.state.usage
        let resumedSamples = try primeDeduplication()
        if ledger.resumed {
            var text = "resuming \(ledger.outputPath): \(resumedSamples) samples in \(ledger.state.counts.batches) batches already committed"
            if ledger.truncatedBytes > 0 { text += "; removed \(ledger.truncatedBytes) bytes of a batch the last run did not finish (it is asked again)" }
            onNote?(text)
        }
        let target = options.countPerLabel
        let totalTarget = target * policies.count * 2
        let acceptedAtStart = ledger.state.groups.values.reduce(0) { $0 + min($1.accepted, target) }
        let policyByID = Dictionary(uniqueKeysWithValues: policies.map { ($0.id, $0) })
        let generator = self.generator
        var nextSequence: [String: Int] = [:]
        var requested: [String: Int] = [:]      // prompts in flight per group
        var inFlight: Set<String> = []          // batch names
        var fruitless: [String: Int] = [:]
        var cursor = 0

        func accepted(_ key: String) -> Int { ledger.state.groups[key]?.accepted ?? 0 }
        func nextBatch() -> SynthesisBatch? {
            let groups = groupKeys
            for offset in 0..<groups.count {
                let (policy, label, key) = groups[(cursor + offset) % groups.count]
                let need = target - accepted(key) - requested[key, default: 0]
                guard need > 0 else { continue }
                let committed = Set(ledger.state.groups[key]?.committed ?? [])
                var sequence = nextSequence[key, default: 0]
                while committed.contains(sequence) || inFlight.contains("\(key)/\(sequence)") { sequence += 1 }
                nextSequence[key] = sequence + 1
                cursor = (cursor + offset + 1) % groups.count
                return SynthesisBatch(policy: policy.id, label: label, sequence: sequence, count: min(options.batchSize, need), runSeed: options.seed)
            }
            return nil
        }

        try await withThrowingTaskGroup(of: BatchResult.self) { group in
            func fill() {
                while inFlight.count < options.concurrency, let batch = nextBatch() {
                    inFlight.insert(batch.name)
                    requested[SynthesisState.key(policy: batch.policy, label: batch.label), default: 0] += batch.count
                    let policy = policyByID[batch.policy]!
                    group.addTask { try await generator.run(batch, policy: policy) }
                }
            }
            fill()
            while let result = try await group.next() {
                let batch = result.batch
                let key = SynthesisState.key(policy: batch.policy, label: batch.label)
                inFlight.remove(batch.name)
                requested[key, default: 0] -= batch.count
                let before = accepted(key)
                try commit(result, usage: baseUsage + generator.client.tally.snapshot)
                let full = accepted(key) >= target
                fruitless[key] = accepted(key) > before || full ? 0 : fruitless[key, default: 0] + 1
                if fruitless[key, default: 0] >= options.maxFruitlessBatches {
                    throw SynthesisError("\(key): the last \(options.maxFruitlessBatches) batches added no new sample (all duplicates, relabelled away or unusable); raise --temperature, or lower --count. Accepted samples are kept; run again to resume.")
                }
                let done = ledger.state.groups.values.reduce(0) { $0 + min($1.accepted, target) }
                let elapsed = Date().timeIntervalSince(started)
                let pace = Double(done - acceptedAtStart) / max(elapsed, 1e-6)
                onProgress?(SynthesisProgress(accepted: done, target: totalTarget, usage: ledger.state.usage, counts: ledger.state.counts,
                                              elapsed: elapsed, eta: pace > 0 ? Double(totalTarget - done) / pace : nil))
                fill()
            }
        }
        let seconds = Date().timeIntervalSince(started)
        try ledger.record { $0.seconds += seconds; $0.usage = baseUsage + generator.client.tally.snapshot }
        return SynthesisReport(state: ledger.state, resumedSamples: resumedSamples, truncatedBytes: ledger.truncatedBytes,
                               usage: generator.client.tally.snapshot, seconds: seconds)
    }

    /// Dedups a finished batch against everything accepted, keeps what its groups still need, commits.
    private func commit(_ result: BatchResult, usage: UsageCounts) throws {
        var counts = ledger.state.counts
        counts.batches += 1
        counts.generated += result.generated
        if generator.settings.reflection == .relabel { counts.relabelled += result.disagreements.count } else { counts.droppedByJudge += result.disagreements.count }
        var candidates: [Sample] = []
        var inBatch = ExactDeduplicator()
        for sample in result.samples {
            if exact.contains(policy: sample.policy, label: sample.label, prompt: sample.prompt)
                || !inBatch.insert(policy: sample.policy, label: sample.label, prompt: sample.prompt) {
                counts.exactDuplicates += 1
            } else {
                candidates.append(sample)
            }
        }
        var keep = [Bool](repeating: true, count: candidates.count)
        if let embedder, let near, !candidates.isEmpty {
            let rows = try embedder.embedPrompts(candidates.map(\.prompt))
            keep = near.filter(rows.data, rows: candidates.count, groups: candidates.map(group))
        }
        var groups = ledger.state.groups
        var accepted: [Sample] = []
        for (sample, kept) in zip(candidates, keep) {
            guard kept else { counts.nearDuplicates += 1; continue }
            let key = SynthesisState.key(policy: sample.policy, label: sample.label)
            guard groups[key, default: GroupProgress()].accepted < options.countPerLabel else { counts.surplus += 1; continue }
            groups[key, default: GroupProgress()].accepted += 1
            _ = exact.insert(policy: sample.policy, label: sample.label, prompt: sample.prompt)
            accepted.append(sample)
        }
        counts.accepted += accepted.count
        let key = SynthesisState.key(policy: result.batch.policy, label: result.batch.label)
        groups[key, default: GroupProgress()].committed.append(result.batch.sequence)
        groups[key]!.committed.sort()
        try ledger.commit(samples: accepted, disagreements: result.disagreements) { state in
            state.groups = groups
            state.counts = counts
            state.usage = usage
        }
    }

    private func group(_ sample: Sample) -> Int { groupIndex[sample.policy]! * 2 + sample.label.classIndex }

    /// Rebuilds exact and near-duplicate state from the committed output; returns its sample count.
    private func primeDeduplication() throws -> Int {
        exact = ExactDeduplicator()
        near = embedder.map { NearDuplicateFilter(dimension: $0.dimension, threshold: options.nearDuplicateThreshold, window: options.nearDuplicateWindow) }
        let samples = try ledger.committedSamples()
        for sample in samples { _ = exact.insert(policy: sample.policy, label: sample.label, prompt: sample.prompt) }
        guard let embedder, let near, !samples.isEmpty else { return samples.count }
        // Only each group's last `window` samples can still be compared with; embed those, in output order.
        var perGroup: [Int: Int] = [:]
        var recent: [Sample] = []
        for sample in samples.reversed() where groupIndex[sample.policy] != nil {
            let g = group(sample)
            guard perGroup[g, default: 0] < options.nearDuplicateWindow else { continue }
            perGroup[g, default: 0] += 1
            recent.append(sample)
        }
        recent.reverse()
        var start = 0
        while start < recent.count {
            let chunk = Array(recent[start..<min(start + 256, recent.count)])
            let rows = try embedder.embedPrompts(chunk.map(\.prompt))
            _ = near.filter(rows.data, rows: chunk.count, groups: chunk.map(group))
            start += chunk.count
        }
        return samples.count
    }
}
