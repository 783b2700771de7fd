/// One line of a guardrail-instruction pretraining corpus: an instruction-formatted model input, its verdict
/// under the policy in the instruction, and where it came from.
public struct CorpusRecord: Sendable, Hashable {
    /// The model input, `Instruct: <policy phrasing> [SEP] Query: <prompt>` (+ ` [SEP] <rationale>`).
    public var text: String
    /// Verdict of the prompt under `policy`.
    public var label: SafetyLabel
    /// The policy the instruction states.
    public var policy: String
    /// The policy of the sample the prompt came from; differs from `policy` for cross-policy pairs.
    public var origin: String
    /// Which phrasing of the policy instruction `text` uses (0 = `Policy.instructionText`, used at inference).
    public var phrasing: Int
    /// Provenance of the prompt (the sample's `source`).
    public var source: String

    public init(text: String, label: SafetyLabel, policy: String, origin: String, phrasing: Int, source: String) {
        self.text = text; self.label = label; self.policy = policy; self.origin = origin
        self.phrasing = phrasing; self.source = source
    }

    /// The fields a corpus line carries, in the order the writer emits them.
    public static let fieldNames = ["text", "label", "policy", "origin", "phrasing", "source"]

    /// Whether the prompt was borrowed from another policy (an unsafe prompt there, safe here).
    public var isCrossPolicy: Bool { origin != policy }
}
