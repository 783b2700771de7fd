import Foundation

/// Text normalisation shared by dedup and splitting, so "Hello  World" and "hello world" are one prompt.
public enum PromptText {
    /// NFKC, lower-cased, whitespace runs collapsed to one space, trimmed.
    public static func normalized(_ text: String) -> String {
        let folded = text.precomposedStringWithCompatibilityMapping.lowercased()
        return folded.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
