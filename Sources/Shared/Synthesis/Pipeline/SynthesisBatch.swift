import GuardData
import Runtime

/// One unit of generation: `count` prompts of `label` under `policy`, batch number `sequence` of that pair.
/// Its seed derives from the run seed, so a batch asked again (after a crash, or by another worker) sends
/// the same request.
public struct SynthesisBatch: Sendable, Hashable, Codable {
    public var policy: String
    public var label: SafetyLabel
    public var sequence: Int
    public var count: Int
    public var seed: UInt64

    public init(policy: String, label: SafetyLabel, sequence: Int, count: Int, runSeed: UInt64) {
        self.policy = policy; self.label = label; self.sequence = sequence; self.count = count
        seed = SeededRandom.mix(SeededRandom.mix(runSeed ^ FNV1a.hash64("\(policy)/\(label.rawValue)")) &+ UInt64(sequence))
    }

    /// `policy/label/sequence`: names the batch in logs and in the samples' `source`.
    public var name: String { "\(policy)/\(label.rawValue)/\(sequence)" }
}

/// A sample whose generator and judge disagreed, kept for the counts and for `--refine-policy`.
public struct Disagreement: Sendable, Hashable, Codable {
    public var policy: String
    public var prompt: String
    /// The label the prompt was written for.
    public var intended: SafetyLabel
    /// The judge's label.
    public var judged: SafetyLabel
    public var reason: String

    public init(policy: String, prompt: String, intended: SafetyLabel, judged: SafetyLabel, reason: String) {
        self.policy = policy; self.prompt = prompt; self.intended = intended; self.judged = judged; self.reason = reason
    }
}

/// What happens to a sample the judge labels differently from the generator.
public enum DisagreementAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// Keep it with the judge's label and reason (the paper's label refinement).
    case relabel
    /// Leave it out.
    case drop
}

/// A batch's outcome: samples ready for dedup, and the disagreements met on the way.
public struct BatchResult: Sendable {
    public var batch: SynthesisBatch
    public var samples: [Sample]
    public var disagreements: [Disagreement]
    /// Prompts the model wrote (before reflection).
    public var generated: Int
}
