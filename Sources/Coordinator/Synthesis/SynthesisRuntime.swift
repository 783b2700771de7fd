import Cluster
import Foundation
import GuardData

/// A synthesize job in the coordinator's memory: batches in flight, accepted counts per policy and label, the exact
/// dedup state over every accepted sample, the near-duplicate window, batches waiting for their embeddings,
/// `refine_policy`'s progress, and the output file. The store holds the same facts (`synth_batches`, `synth_samples`,
/// `synth_refinements`); this is the view the event loop plans and checks results with.
final class SynthesisRuntime {
    /// A batch issued and not yet committed.
    struct Batch: Equatable {
        var number: Int
        var policy: String
        var label: SafetyLabel
        var sequence: Int
        var count: Int
        var key: String { SynthesisRuntime.key(policy, label) }
    }

    /// A checked batch whose prompts are being embedded; committed when the rows come back (tickets in order).
    struct PendingBatch {
        var batch: Batch
        var taskID: String
        var result: Uniguard_V1_SynthBatchResult
        var samples: [Sample]
        var disagreements: [JobDisagreement]
        /// Index in `samples` → row of the embeddings: the samples that were not exact duplicates when sent.
        var rows: [Int: Int]
        var elapsedMs: UInt64
        var worker: String
    }

    /// What an embedding ticket is for.
    enum EmbeddingWork {
        case batch(PendingBatch)
        /// Rebuilding the window after a restart from the accepted samples of these groups (in output order).
        case window(groups: [Int])
    }

    /// What one policy's batches gave so far.
    struct PolicyTally {
        var accepted: [SafetyLabel: Int] = [:]
        var generated = 0
        var duplicates = 0
        var nearDuplicates = 0
        var surplus = 0
        var relabelled = 0
        var dropped = 0
        var batches = 0
    }

    let id: String
    let prepared: PreparedSynthesis
    let submitter: String
    let createdMs: UInt64
    var state: JobState
    var finishedMs: UInt64?
    var message: String?
    let output: SynthesisOutput

    var inFlight: [Int: Batch] = [:]
    var nextBatch = 1
    var nextSequence: [String: Int] = [:]
    var tallies: [String: PolicyTally] = [:]
    var requests = 0
    var promptTokens = 0
    var completionTokens = 0
    var retries = 0
    var batchesDone = 0
    var lastCommitSeq = 0
    var exact = ExactDeduplicator()
    /// Batches in a row per (policy, label) that added nothing (reset by a restart).
    var fruitless: [String: Int] = [:]
    private var cursor = 0
    /// The coordinator's encoder queue (nil: exact dedup only, or the job ended).
    var embedding: SynthesisEmbedding?
    /// Near-duplicate window per (policy, label); made when the first rows come back (their width).
    var near: NearDuplicateFilter?
    /// Embedding tickets not yet handled, and the next ticket.
    var embeddingWork: [Int: EmbeddingWork] = [:]
    var nextTicket = 1
    /// `refine_policy` per policy id; empty until the samples are done.
    var refinements: [String: StoredRefinement] = [:]

    init(_ stored: StoredSynthesisJob, outputPath: String) {
        id = stored.id
        prepared = stored.prepared
        submitter = stored.submitter
        createdMs = stored.createdMs
        state = stored.state
        finishedMs = stored.finishedMs
        message = stored.message
        output = SynthesisOutput(path: outputPath)
    }

    var spec: SynthesisJobSpec { prepared.spec }
    static func key(_ policy: String, _ label: SafetyLabel) -> String { "\(policy)/\(label.rawValue)" }
    /// Task ids of batches: `job-N/batch-B`.
    static func taskID(job: String, batch: Int) -> String { "\(job)/batch-\(batch)" }

    /// (policy, label) pairs in planning order: unsafe then safe per policy, policies as in the job file.
    var groups: [(policy: String, label: SafetyLabel)] {
        prepared.policies.flatMap { p in [SafetyLabel.unsafe, .safe].map { (policy: p.id, label: $0) } }
    }

    func accepted(_ policy: String, _ label: SafetyLabel) -> Int { tallies[policy]?.accepted[label] ?? 0 }
    var acceptedTotal: Int { tallies.values.reduce(0) { $0 + $1.accepted.values.reduce(0, +) } }
    var target: Int { spec.count * groups.count }

    /// Prompts still to ask for in a group beyond what is accepted and in flight.
    func need(_ policy: String, _ label: SafetyLabel) -> Int {
        let key = Self.key(policy, label)
        let requested = inFlight.values.reduce(0) { $0 + ($1.key == key ? $1.count : 0) }
        return spec.count - accepted(policy, label) - requested
    }

    /// Every group has its count: the samples are done (refinement may follow).
    var complete: Bool { groups.allSatisfy { accepted($0.policy, $0.label) >= spec.count } }

    /// Refinement has begun (a row per policy) and none is pending.
    var refinementsDone: Bool { !refinements.isEmpty && refinements.values.allSatisfy { $0.state != "pending" } }

    /// Task ids of refinements: `job-N/refine-K` (K: the policy's 1-based place in the job), with arm id -K.
    static func refineTaskID(job: String, policyIndex: Int) -> String { "\(job)/refine-\(policyIndex + 1)" }
    static func refineArmID(policyIndex: Int) -> Int { -(policyIndex + 1) }
    /// The policy a refine task's arm id names.
    func refinePolicy(armID: Int) -> PreparedSynthesis.PolicyText? {
        let index = -armID - 1
        return prepared.policies.indices.contains(index) ? prepared.policies[index] : nil
    }

    /// The near-duplicate group of a (policy, label): two per policy, in job order.
    func nearGroup(_ policy: String, _ label: SafetyLabel) -> Int? {
        prepared.policies.firstIndex { $0.id == policy }.map { $0 * 2 + label.classIndex }
    }

    /// The near-duplicate window, made at the first rows (whose width it takes).
    func nearFilter(dimension: Int) -> NearDuplicateFilter? {
        guard let settings = spec.nearDuplicates else { return nil }
        if near == nil { near = NearDuplicateFilter(dimension: dimension, threshold: settings.threshold, window: settings.window) }
        return near
    }

    /// Indices of the samples that are not exact duplicates of accepted ones or of an earlier sample of the batch.
    func exactCandidates(_ samples: [Sample]) -> [Int] {
        var inBatch = ExactDeduplicator()
        return samples.indices.filter { i in
            let s = samples[i]
            return !exact.contains(policy: s.policy, label: s.label, prompt: s.prompt) && inBatch.insert(policy: s.policy, label: s.label, prompt: s.prompt)
        }
    }

    /// Whether `taskID`'s checked result waits for its embeddings (its worker is acknowledged when it commits).
    func awaitsEmbedding(_ taskID: String) -> Bool {
        embeddingWork.values.contains { if case .batch(let p) = $0 { p.taskID == taskID } else { false } }
    }

    /// The next batch to issue (groups in turn), or nil when what is in flight covers every group's need.
    func planBatch() -> Batch? {
        let all = groups
        for offset in 0..<all.count {
            let (policy, label) = all[(cursor + offset) % all.count]
            let missing = need(policy, label)
            guard missing > 0 else { continue }
            cursor = (cursor + offset + 1) % all.count
            let key = Self.key(policy, label)
            let sequence = nextSequence[key, default: 0]
            nextSequence[key] = sequence + 1
            let batch = Batch(number: nextBatch, policy: policy, label: label, sequence: sequence, count: min(spec.batch, missing))
            nextBatch += 1
            return batch
        }
        return nil
    }

    /// Batches a full plan still needs beyond those done and in flight (for status: done/total).
    var batchesEstimatedLeft: Int {
        groups.reduce(0) { sum, g in
            let missing = max(0, need(g.policy, g.label))
            return sum + (missing + spec.batch - 1) / spec.batch
        }
    }

    /// The accepted samples the near-duplicate window holds after a restart: each group's last `window`, in output order.
    func windowSamples(_ lines: [(policy: String, label: String, line: String)]) -> [(sample: Sample, group: Int)] {
        guard let window = spec.nearDuplicates?.window, window > 0 else { return [] }
        var perGroup: [Int: Int] = [:]
        var recent: [(sample: Sample, group: Int)] = []
        for s in lines.reversed() {
            guard let label = SafetyLabel(rawValue: s.label), let group = nearGroup(s.policy, label), perGroup[group, default: 0] < window,
                  let sample = try? SampleCodec.decode(ArraySlice(Array(s.line.utf8)), path: id, line: 0) else { continue }
            perGroup[group, default: 0] += 1
            recent.append((sample, group))
        }
        return recent.reversed()
    }

    /// Rebuilds memory from the store's batches and sample lines; the output file is made to match them.
    /// `writeOutput`: make the output file match (running jobs; a finished job's file is the user's now).
    func restore(batches: [StoredSynthesisBatch], samples: [(policy: String, label: String, line: String)], writeOutput: Bool) throws {
        for b in batches {
            guard let label = SafetyLabel(rawValue: b.label) else { continue }
            let key = Self.key(b.policy, label)
            nextSequence[key] = max(nextSequence[key, default: 0], b.sequence + 1)
            nextBatch = max(nextBatch, b.batch + 1)
            if b.state == "issued" {
                inFlight[b.batch] = Batch(number: b.batch, policy: b.policy, label: label, sequence: b.sequence, count: b.count)
            }
            guard let o = b.outcome else { continue }
            batchesDone += 1
            lastCommitSeq = max(lastCommitSeq, o.commitSeq)
            var t = tallies[b.policy, default: PolicyTally()]
            t.generated += o.generated; t.duplicates += o.duplicates; t.nearDuplicates += o.nearDuplicates; t.surplus += o.surplus
            t.relabelled += o.relabelled; t.dropped += o.dropped; t.batches += 1
            tallies[b.policy] = t
            requests += o.requests; promptTokens += o.promptTokens; completionTokens += o.completionTokens; retries += o.retries
        }
        var lines: [String] = []
        lines.reserveCapacity(samples.count)
        for s in samples {
            guard let label = SafetyLabel(rawValue: s.label) else { continue }
            tallies[s.policy, default: PolicyTally()].accepted[label, default: 0] += 1
            if let sample = try? SampleCodec.decode(ArraySlice(Array(s.line.utf8)), path: id, line: 0) {
                _ = exact.insert(policy: sample.policy, label: sample.label, prompt: sample.prompt)
            }
            lines.append(s.line)
        }
        if writeOutput { try output.restore(lines: lines) }
    }
}
