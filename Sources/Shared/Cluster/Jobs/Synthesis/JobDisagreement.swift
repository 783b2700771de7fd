import Foundation
import GuardData

/// A prompt whose generator and judge disagreed, as a synthesize job keeps it (the coordinator's store) and sends it to
/// the worker that refines the policy. Its JSON line is that of `uniguard synthesize`'s `<out>.disagreements.jsonl`.
public struct JobDisagreement: Codable, Sendable, Equatable {
    public var policy: String
    public var prompt: String
    /// The label the prompt was written for, and the judge's.
    public var intended: SafetyLabel
    public var judged: SafetyLabel
    public var reason: String

    public init(policy: String, prompt: String, intended: SafetyLabel, judged: SafetyLabel, reason: String) {
        self.policy = policy; self.prompt = prompt; self.intended = intended; self.judged = judged; self.reason = reason
    }

    /// From the wire (a worker's result); nil when a label is neither safe nor unsafe.
    public init?(wire: Uniguard_V1_SynthDisagreement, policy: String) {
        guard let intended = SafetyLabel(rawValue: wire.intended), let judged = SafetyLabel(rawValue: wire.judged) else { return nil }
        self.init(policy: policy, prompt: wire.prompt, intended: intended, judged: judged, reason: wire.reason)
    }

    public var wire: Uniguard_V1_SynthDisagreement {
        var w = Uniguard_V1_SynthDisagreement()
        w.prompt = prompt
        w.intended = intended.rawValue
        w.judged = judged.rawValue
        w.reason = reason
        return w
    }

    /// One JSON line (keys sorted).
    public var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public static func decode(line: String) throws -> JobDisagreement {
        try JSONDecoder().decode(JobDisagreement.self, from: Data(line.utf8))
    }
}
