import Foundation

/// Builds the multi-policy guardrail-instruction pretraining corpus from sample files, streaming:
///
/// 1. Read samples file by file; a sample of a policy missing from the pack is an error naming
///    `file:line` (or, with `skipInvalid`, counted and skipped). Excluded policies' samples are dropped.
/// 2. Exact dedup on (policy, label, normalised prompt) fingerprints (`ExactDeduplicator`).
/// 3. Near-duplicate dedup per mini-batch of `dedupBatch` prompts by embedding similarity
///    (`NearDuplicateFilter`), when an embedder is given.
/// 4. Each kept sample becomes a record under its own policy; each kept unsafe one also becomes a safe
///    record for up to `crossPairs` other policies (`CrossPolicyPairing`, rules in `CrossPolicyRules`).
///    Cross pairs share the exact-dedup key space, so the corpus never holds one (policy, label, prompt)
///    twice, and a pair is not made to a policy under which the prompt is already known to be unsafe.
///    "Known" means read so far, including the rest of the current mini-batch: which copy of a repeated
///    (policy, safe, prompt) survives can depend on `dedupBatch`, never whether one does.
/// 5. The instruction is one of the policy's `PolicyPhrasings`, chosen by a seeded hash of prompt and
///    policy. Cross pairs never carry a rationale (it explains why the prompt is unsafe elsewhere).
///
/// Records come out in input order (the pretrainer shuffles). Memory is flat in the corpus size apart
/// from 8 bytes per distinct key: one mini-batch of samples and a bounded embedding window are held.
public final class CorpusBuilder {
    /// The policies the corpus may use (the pack minus exclusions), by id.
    public let policies: [String: Policy]
    /// The settings.
    public let options: CorpusOptions

    private let phrasings: [String: PolicyPhrasings]
    private let groupIndex: [String: Int]
    private let pairing: CrossPolicyPairing
    private let format: InstructionFormat
    private let knownIDs: [String]
    private let embedder: (any PromptEmbedding)?

    private var dedup = ExactDeduplicator()
    private var nearFilter: NearDuplicateFilter?
    private var pending: [Sample] = []
    private var report = CorpusReport()

    /// Checks the settings against the pack; `embedder` nil turns near-duplicate dedup off.
    public init(pack: PolicyPack, options: CorpusOptions, embedder: (any PromptEmbedding)?) throws {
        guard options.crossPairs >= 0 else { throw CorpusError("--cross-pairs must be 0 or more (got \(options.crossPairs))") }
        guard (1...PolicyPhrasings.count).contains(options.phrasingCount) else {
            throw CorpusError("--phrasings must be between 1 and \(PolicyPhrasings.count) (got \(options.phrasingCount))")
        }
        guard options.dedupBatch >= 1 else { throw CorpusError("--dedup-batch must be at least 1 (got \(options.dedupBatch))") }
        guard options.nearDuplicateThreshold > 0, options.nearDuplicateThreshold <= 1 else {
            throw CorpusError("--near-dup-threshold must be in (0, 1] (got \(options.nearDuplicateThreshold))")
        }
        guard options.nearDuplicateWindow >= 0 else { throw CorpusError("--near-dup-window must be 0 or more (got \(options.nearDuplicateWindow))") }
        for id in options.excludedPolicies.sorted() where pack[id] == nil {
            throw CorpusError("--exclude-policy \(id): no such policy in the pack (it has \(pack.ids.joined(separator: ", ")))")
        }
        let included = pack.policies.filter { !options.excludedPolicies.contains($0.id) }
        guard !included.isEmpty else { throw CorpusError("every policy of the pack is excluded; nothing to build") }
        self.options = options
        self.embedder = embedder
        knownIDs = pack.ids
        policies = Dictionary(uniqueKeysWithValues: included.map { ($0.id, $0) })
        phrasings = policies.mapValues(PolicyPhrasings.init)
        groupIndex = Dictionary(uniqueKeysWithValues: included.enumerated().map { ($1.id, $0) })
        pairing = CrossPolicyPairing(policies: included.map(\.id), pairsPerPrompt: options.crossPairs, seed: options.seed)
        format = InstructionFormat(separator: options.separator, includeRationale: options.includeRationales)
    }

    /// Called after each mini-batch with the samples read and records written so far (for a progress line).
    public var onProgress: ((_ samplesRead: Int, _ recordsWritten: Int) -> Void)?

    /// Reads `inputs` in order and hands every record to `emit`; one build per call, state starts empty.
    public func build(inputs: [String], emit: (CorpusRecord) throws -> Void) throws -> CorpusReport {
        dedup = ExactDeduplicator()
        nearFilter = embedder.map { NearDuplicateFilter(dimension: $0.dimension, threshold: options.nearDuplicateThreshold, window: options.nearDuplicateWindow) }
        pending = []
        report = CorpusReport()
        report.phrasingCounts = [Int](repeating: 0, count: options.phrasingCount)
        for id in policies.keys { report.policies[id] = .init() }
        for path in inputs { try read(path, emit: emit) }
        try flush(emit: emit)
        report.dedupKeys = dedup.count
        return report
    }

    /// Builds into `output` (atomically: nothing appears there unless the whole build succeeds).
    public func build(inputs: [String], output: String) throws -> CorpusReport {
        let writer = try CorpusWriter(path: output)
        let report = try build(inputs: inputs) { try writer.write($0) }
        try writer.close()
        return report
    }

    private func read(_ path: String, emit: (CorpusRecord) throws -> Void) throws {
        let reader = try SampleReader(path: path, skipInvalid: options.skipInvalid)
        var unknown: [SampleError] = []
        var unknownCount = 0
        while let sample = try reader.nextSample() {
            report.samplesRead += 1
            guard knownIDs.contains(sample.policy) else {
                let bad = SampleError(path: path, line: reader.lineNumber, field: "policy",
                                      problem: "unknown policy \(SampleCodec.quoted(sample.policy)); the pack has \(knownIDs.joined(separator: ", ")) (pass the right --policies DIR, or --skip-invalid)")
                guard options.skipInvalid else { throw bad }
                unknownCount += 1
                if unknown.count < 10 { unknown.append(bad) }
                continue
            }
            guard policies[sample.policy] != nil else { report.excludedSamples += 1; continue }
            guard dedup.insert(policy: sample.policy, label: sample.label, prompt: sample.prompt) else {
                report.exactDuplicates += 1
                report.policies[sample.policy]!.exactDuplicates += 1
                continue
            }
            let other: SafetyLabel = sample.label == .safe ? .unsafe : .safe
            if dedup.contains(policy: sample.policy, label: other, prompt: sample.prompt) { report.labelConflicts += 1 }
            pending.append(sample)
            if pending.count >= options.dedupBatch { try flush(emit: emit) }
        }
        report.skippedInvalid += reader.skippedCount + unknownCount
        if !reader.skipReport.isEmpty { report.skipReports.append(reader.skipReport) }
        if unknownCount > 0 {
            var text = "skipped \(unknownCount) sample\(unknownCount == 1 ? "" : "s") of policies not in the pack in \(path)"
            for bad in unknown { text += "\n  \(bad)" }
            if unknownCount > unknown.count { text += "\n  … and \(unknownCount - unknown.count) more" }
            report.skipReports.append(text)
        }
    }

    /// Near-dedups the pending mini-batch, then writes the survivors and their cross pairs.
    private func flush(emit: (CorpusRecord) throws -> Void) throws {
        guard !pending.isEmpty else { return }
        var keep = [Bool](repeating: true, count: pending.count)
        if let embedder, let nearFilter {
            let embeddings = try embedder.embedPrompts(pending.map(\.prompt))
            let groups = pending.map { groupIndex[$0.policy]! * 2 + $0.label.classIndex }
            keep = nearFilter.filter(embeddings.data, rows: pending.count, groups: groups)
        }
        for (sample, kept) in zip(pending, keep) {
            if kept {
                try write(sample, emit: emit)
            } else {
                report.nearDuplicates += 1
                report.policies[sample.policy]!.nearDuplicates += 1
            }
        }
        pending.removeAll(keepingCapacity: true)
        onProgress?(report.samplesRead, report.recordsWritten)
    }

    private func write(_ sample: Sample, emit: (CorpusRecord) throws -> Void) throws {
        let own = record(prompt: sample.prompt, policy: sample.policy, origin: sample.policy, label: sample.label,
                         rationale: sample.rationale, source: sample.source)
        try emit(own)
        count(own)
        guard sample.label == .unsafe, options.crossPairs > 0 else { return }
        var made = 0
        for target in pairing.rankedTargets(prompt: sample.prompt, source: sample.policy) where made < options.crossPairs {
            // Known unsafe under the target (its own data says so): pairing would contradict the data.
            if dedup.contains(policy: target, label: .unsafe, prompt: sample.prompt) { continue }
            // Already a safe record of the target (own sample or earlier pair): take the next target.
            guard dedup.insert(policy: target, label: .safe, prompt: sample.prompt) else { continue }
            let pair = record(prompt: sample.prompt, policy: target, origin: sample.policy, label: .safe, rationale: nil, source: sample.source)
            try emit(pair)
            count(pair)
            made += 1
        }
        if made == 0 { report.unpairedUnsafe += 1 }
    }

    private func record(prompt: String, policy: String, origin: String, label: SafetyLabel, rationale: String?, source: String) -> CorpusRecord {
        let index = PolicyPhrasings.index(prompt: prompt, policy: policy, seed: options.seed, available: options.phrasingCount)
        let text = format.render(policyText: phrasings[policy]![index], prompt: prompt, rationale: rationale)
        return CorpusRecord(text: text, label: label, policy: policy, origin: origin, phrasing: index, source: source)
    }

    private func count(_ record: CorpusRecord) {
        report.recordsWritten += 1
        report.phrasingCounts[record.phrasing] += 1
        if record.isCrossPolicy {
            report.policies[record.policy]!.crossSafe += 1
        } else if record.label == .safe {
            report.policies[record.policy]!.ownSafe += 1
        } else {
            report.policies[record.policy]!.ownUnsafe += 1
        }
    }
}
