import Cluster
import Foundation
import GuardData

/// What a worker's batch result must be to count (a registered worker is trusted no further than its lease): one raw
/// frame of exactly `accepted` sample lines, no more than the batch asked for, every line a valid sample of the
/// batch's policy with the batch's `source`, counts that add up (generated = accepted + dropped, relabelled lines
/// carry the other label) and usage figures a store can hold. Anything else is a lie or a bug, and fails the task.
enum SynthesisResultCheck {
    /// The batch's samples, or why the result cannot be true.
    static func samples(_ r: Uniguard_V1_SynthBatchResult, raw: [Data], batch: SynthesisRuntime.Batch,
                        prepared: PreparedSynthesis, taskID: String) throws -> [Sample] {
        func reject(_ key: String, _ reason: String) -> JobSpecError {
            JobSpecError(source: taskID, key: key, reason: reason + "; result rejected")
        }
        let accepted = Int(r.accepted), generated = Int(r.generated), dropped = Int(r.rejected), relabelled = Int(r.relabelled)
        guard accepted <= batch.count, generated <= batch.count else {
            throw reject("accepted", "\(accepted) samples accepted of \(generated) generated in a batch of \(batch.count)")
        }
        guard accepted + dropped == generated, relabelled <= accepted else {
            throw reject("generated", "\(generated) generated ≠ \(accepted) accepted + \(dropped) dropped (relabelled \(relabelled))")
        }
        for (name, value) in [("requests", r.requests), ("prompt_tokens", r.promptTokens), ("completion_tokens", r.completionTokens), ("retries", r.retries)]
        where value > 1 << 40 {
            throw reject(name, "\(value) is not a plausible count for one batch")
        }
        guard raw.count <= 1 else { throw reject("raw frames", "\(raw.count) raw frames; expected one JSONL frame") }
        let bytes = raw.first ?? Data()
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: true)
        guard lines.count == accepted else {
            throw reject("accepted", "says \(accepted) samples but its frame holds \(lines.count) lines")
        }
        let source = prepared.source(policy: batch.policy, label: batch.label, sequence: batch.sequence)
        var otherLabel = 0
        let samples = try lines.enumerated().map { i, line -> Sample in
            let sample: Sample
            do { sample = try SampleCodec.decode(ArraySlice(line), path: taskID, line: i + 1) } catch {
                throw reject("samples", "line \(i + 1): \(error)")
            }
            guard sample.policy == batch.policy, sample.source == source else {
                throw reject("samples", "line \(i + 1) is for policy '\(sample.policy)' with source '\(sample.source)', not this batch's '\(batch.policy)' / '\(source)'")
            }
            if sample.label != batch.label { otherLabel += 1 }
            return sample
        }
        let expectedOther = prepared.spec.reflection == "relabel" ? relabelled : 0
        guard otherLabel == expectedOther else {
            throw reject("relabelled", "\(otherLabel) lines carry the other label but \(expectedOther) were relabelled")
        }
        return samples
    }
}
