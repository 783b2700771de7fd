import Cluster
import Foundation
import GuardData

/// What a worker's result must be to count (a registered worker is trusted no further than its lease). A batch: one
/// raw frame of exactly `accepted` sample lines, no more than the batch asked for, every line a valid sample of the
/// batch's policy with the batch's `source`, counts that add up (generated = accepted + dropped, relabelled lines
/// carry the other label), usage figures a store can hold, and none or all of its disagreements, each about this
/// batch's label (relabelled ones about its relabelled lines). A refinement: a critique, and a revision that parses as
/// the same policy. Anything else is a lie or a bug, and fails the task.
enum SynthesisResultCheck {
    /// A batch's samples and the judge's disagreements.
    struct Checked {
        var samples: [Sample]
        var disagreements: [JobDisagreement]
    }

    /// Longest text a disagreement or a suggestion may carry (bytes): a bound on what a worker can make us store.
    static let maxPromptBytes = 32 << 10
    static let maxSuggestionBytes = 256 << 10

    /// The batch's samples and disagreements, or why the result cannot be true.
    static func check(_ r: Uniguard_V1_SynthBatchResult, raw: [Data], batch: SynthesisRuntime.Batch,
                      prepared: PreparedSynthesis, taskID: String) throws -> Checked {
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
        return Checked(samples: samples, disagreements: try disagreements(r, samples: samples, batch: batch, prepared: prepared, reject: reject))
    }

    /// As many disagreements as the judge relabelled or dropped (or none: they only feed `refine_policy`), each written
    /// for the batch's label and judged the other; a relabelled one is one of the other-label lines.
    private static func disagreements(_ r: Uniguard_V1_SynthBatchResult, samples: [Sample], batch: SynthesisRuntime.Batch,
                                      prepared: PreparedSynthesis, reject: (String, String) -> JobSpecError) throws -> [JobDisagreement] {
        let expected: Int
        switch prepared.spec.reflection {
        case "relabel": expected = Int(r.relabelled)
        case "drop": expected = Int(r.rejected)
        default: expected = 0
        }
        guard r.disagreements.isEmpty || r.disagreements.count == expected else {
            throw reject("disagreements", "\(r.disagreements.count) disagreements where the judge relabelled or dropped \(expected)")
        }
        var relabelled = [String: Int]()
        for s in samples where s.label != batch.label { relabelled[s.prompt, default: 0] += 1 }
        return try r.disagreements.enumerated().map { i, wire in
            guard let d = JobDisagreement(wire: wire, policy: batch.policy), d.intended == batch.label, d.judged != d.intended else {
                throw reject("disagreements", "disagreement \(i + 1) is not a \(batch.label.rawValue) prompt judged otherwise")
            }
            guard !d.prompt.isEmpty, d.prompt.utf8.count <= maxPromptBytes, d.reason.utf8.count <= maxPromptBytes else {
                throw reject("disagreements", "disagreement \(i + 1) has an empty or oversized prompt or reason")
            }
            if prepared.spec.reflection == "relabel" {
                guard relabelled[d.prompt, default: 0] > 0 else {
                    throw reject("disagreements", "disagreement \(i + 1) is about a prompt that is not among the relabelled lines")
                }
                relabelled[d.prompt]! -= 1
            }
            return d
        }
    }

    /// A refinement's critique and revised YAML, or why they cannot be used: the revision must parse as a policy with
    /// the same id (else it is no use to anyone), and both must be of sensible size.
    static func suggestion(_ r: Uniguard_V1_SynthRefineResult, policyID: String, taskID: String) throws -> (critique: String, yaml: String) {
        func reject(_ key: String, _ reason: String) -> JobSpecError {
            JobSpecError(source: taskID, key: key, reason: reason + "; result rejected")
        }
        let critique = r.critique.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !critique.isEmpty, critique.utf8.count <= maxPromptBytes else { throw reject("critique", "empty or over \(maxPromptBytes) bytes") }
        guard r.revisedPolicyYaml.utf8.count <= maxSuggestionBytes else { throw reject("revised_policy_yaml", "over \(maxSuggestionBytes) bytes") }
        for (name, value) in [("requests", r.requests), ("prompt_tokens", r.promptTokens), ("completion_tokens", r.completionTokens), ("retries", r.retries)]
        where value > 1 << 40 {
            throw reject(name, "\(value) is not a plausible count for one request")
        }
        let policy: Policy
        do { policy = try PolicyParser.parse(yaml: r.revisedPolicyYaml, path: "<suggested revision from \(taskID)>") } catch {
            throw reject("revised_policy_yaml", "not a valid policy YAML: \(error)")
        }
        guard policy.id == policyID else { throw reject("revised_policy_yaml", "the revision has id \(policy.id), expected \(policyID)") }
        return (critique, r.revisedPolicyYaml)
    }
}
