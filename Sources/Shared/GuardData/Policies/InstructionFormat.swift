import Tokenizers

/// The paper's classifier input: `Instruct: <policy text> [SEP] Query: <prompt> [SEP] <rationale>`.
/// The separator is the model's own: byte-level BPE models (RoBERTa, XLM-R) spell it `</s>`, and to their
/// tokenizers a literal `[SEP]` is five plain-text pieces.
public struct InstructionFormat: Sendable, Hashable {
    /// Text placed between segments (surrounded by single spaces).
    public var separator: String
    /// Whether the rationale segment is appended when a sample has one (only some recipes train on it).
    public var includeRationale: Bool

    public init(separator: String = "[SEP]", includeRationale: Bool = false) {
        self.separator = separator
        self.includeRationale = includeRationale
    }

    /// The format for a model's tokenizer: its separator token's text between segments (`[SEP]`, `</s>`).
    public init(tokenizer: any Tokenizer, includeRationale: Bool = false) {
        self.init(separator: Self.separator(of: tokenizer), includeRationale: includeRationale)
    }

    /// The text of `tokenizer`'s separator token, which its added-token splitter turns back into that one id.
    public static func separator(of tokenizer: any Tokenizer) -> String {
        tokenizer.token(of: tokenizer.special.sep) ?? "[SEP]"
    }

    /// The default BERT-style format without rationales.
    public static let standard = InstructionFormat()

    /// Renders one input from policy text, prompt and optional rationale.
    public func render(policyText: String, prompt: String, rationale: String? = nil) -> String {
        var text = "Instruct: " + policyText + " " + separator + " Query: " + prompt
        if includeRationale, let rationale, !rationale.isEmpty { text += " " + separator + " " + rationale }
        return text
    }

    /// Renders a prompt under a policy.
    public func render(policy: Policy, prompt: String, rationale: String? = nil) -> String {
        render(policyText: policy.instructionText, prompt: prompt, rationale: rationale)
    }

    /// Renders a sample under its policy.
    public func render(sample: Sample, policy: Policy) -> String {
        render(policyText: policy.instructionText, prompt: sample.prompt, rationale: sample.rationale)
    }
}
