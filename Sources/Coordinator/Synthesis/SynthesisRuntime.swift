import Cluster
import Foundation
import GuardData

/// A synthesize job in the coordinator's memory: batches in flight, accepted counts per policy and label, the exact
/// dedup state over every accepted sample, and the output file. The store holds the same facts (`synth_batches`,
/// `synth_samples`); this is the view the event loop plans and checks results with.
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

    /// What one policy's batches gave so far.
    struct PolicyTally {
        var accepted: [SafetyLabel: Int] = [:]
        var generated = 0
        var duplicates = 0
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

    /// Every group has its count: the job is done.
    var complete: Bool { groups.allSatisfy { accepted($0.policy, $0.label) >= spec.count } }

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
            t.generated += o.generated; t.duplicates += o.duplicates; t.surplus += o.surplus
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
