/// One corpus line (DESIGN.md §4): a prompt, the policy it is judged under, its label and provenance.
public struct Sample: Sendable, Hashable {
    /// Policy id, e.g. `safety`.
    public var policy: String
    /// The user prompt being judged.
    public var prompt: String
    /// Optional explanation of the label; used by recipes that train on rationales.
    public var rationale: String?
    /// Verdict of `prompt` under `policy`.
    public var label: SafetyLabel
    /// Where the sample came from, e.g. `pyrit:advbench` or `expand:own#seed=1a2b3c4d`.
    /// A trailing `#<group>` keeps samples of one group in the same split (see `DataSplitter`).
    public var source: String

    public init(policy: String, prompt: String, rationale: String? = nil, label: SafetyLabel, source: String) {
        self.policy = policy
        self.prompt = prompt
        self.rationale = rationale
        self.label = label
        self.source = source
    }

    /// The fields a sample line may carry, in the order the writer emits them.
    public static let fieldNames = ["policy", "prompt", "rationale", "label", "source"]

    /// The split group named after `#` in `source`, if any.
    public var group: String? {
        guard let hash = source.lastIndex(of: "#") else { return nil }
        let group = source[source.index(after: hash)...]
        return group.isEmpty ? nil : String(group)
    }
}
