import Foundation

/// A guardrail policy: what a prompt may and may not ask for, with example prompts of each class.
public struct Policy: Sendable, Hashable {
    /// Stable identifier used in samples and model directories, e.g. `tax_advice` (`[a-z0-9_]+`).
    public let id: String
    /// Human name, e.g. "Tax advice".
    public let name: String
    /// What the policy protects against, in a sentence or two.
    public let description: String
    /// Behaviours a prompt may ask for under this policy.
    public let allowed: [String]
    /// Behaviours that make a prompt unsafe under this policy.
    public let disallowed: [String]
    /// Example prompts of each class; they seed the template expander.
    public let examples: PolicyExamples
    /// The file the policy was loaded from, when it came from disk.
    public let sourcePath: String?

    public init(id: String, name: String, description: String, allowed: [String], disallowed: [String],
                examples: PolicyExamples, sourcePath: String? = nil) {
        self.id = id
        self.name = name
        self.description = description
        self.allowed = allowed
        self.disallowed = disallowed
        self.examples = examples
        self.sourcePath = sourcePath
    }

    /// The policy as it appears after `Instruct:`: name, description and the disallowed list on one
    /// line. Short on purpose: every token here is repeated in every training and inference input.
    public var instructionText: String {
        let items = disallowed.map { Self.squash($0).trimmingCharacters(in: CharacterSet(charactersIn: ".;")) }
        var text = Self.squash(name) + ": " + Self.squash(description)
        if !text.hasSuffix(".") { text += "." }
        if !items.isEmpty { text += " Disallowed: " + items.joined(separator: "; ") + "." }
        return text
    }

    /// Collapses runs of whitespace (YAML folded text keeps newlines) to single spaces.
    static func squash(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}

/// Example prompts of a policy, by class.
public struct PolicyExamples: Sendable, Hashable {
    /// Prompts that are acceptable under the policy.
    public let safe: [String]
    /// Prompts that violate the policy.
    public let unsafe: [String]

    public init(safe: [String], unsafe: [String]) {
        self.safe = safe
        self.unsafe = unsafe
    }

    /// The examples of one class.
    public subscript(label: SafetyLabel) -> [String] { label == .safe ? safe : unsafe }
}
