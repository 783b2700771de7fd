import Foundation
import GuardData

/// Counts of what happened to generated prompts, over all runs of one output.
public struct SynthesisCounts: Sendable, Hashable, Codable {
    /// Batches whose samples were committed.
    public var batches = 0
    /// Prompts the model wrote.
    public var generated = 0
    /// Disagreements with the judge kept under the judge's label.
    public var relabelled = 0
    /// Disagreements with the judge left out.
    public var droppedByJudge = 0
    public var exactDuplicates = 0
    public var nearDuplicates = 0
    /// Prompts past the target of their (policy, label): requested in parallel, not needed.
    public var surplus = 0
    public var accepted = 0

    public init() {}

    public var summary: String {
        "\(generated) prompts generated in \(batches) batches; self-reflection relabelled \(relabelled), dropped \(droppedByJudge); "
            + "duplicates dropped: \(exactDuplicates) exact, \(nearDuplicates) near; \(surplus) surplus; \(accepted) accepted"
    }
}

/// Progress of one (policy, label) pair.
public struct GroupProgress: Sendable, Hashable, Codable {
    public var accepted = 0
    /// Batch sequence numbers whose samples are in the output.
    public var committed: [Int] = []
    public init() {}
}

/// The state file beside the output (`<out>.state.json`): which batches are in the output and how many bytes
/// of it (and of the disagreements file) are committed. Written after the samples, atomically, so after a
/// crash the output may be longer than the state says (a batch cut short), never shorter.
public struct SynthesisState: Sendable, Codable {
    public static let currentVersion = 1
    public var version = SynthesisState.currentVersion
    /// SHA-256 of `identity`.
    public var fingerprint: String
    /// What decides which data this output holds (policies, model, seed, reflection); a resume must match it.
    public var identity: String
    public var outputBytes: UInt64 = 0
    public var disagreementBytes: UInt64 = 0
    /// Keyed by `policy/label`.
    public var groups: [String: GroupProgress] = [:]
    public var counts = SynthesisCounts()
    public var usage = UsageCounts()
    /// Seconds spent in runs so far (for the cost figures).
    public var seconds: Double = 0

    public init(fingerprint: String, identity: String) { self.fingerprint = fingerprint; self.identity = identity }

    public static func key(policy: String, label: SafetyLabel) -> String { "\(policy)/\(label.rawValue)" }
}
