import Foundation

/// Text normalisation shared by dedup and splitting, so "Hello  World" and "hello world" are one prompt.
public enum PromptText {
    /// NFKC, lower-cased, whitespace runs collapsed to one space, trimmed.
    public static func normalized(_ text: String) -> String {
        if let ascii = asciiNormalized(text) { return ascii }
        let folded = text.precomposedStringWithCompatibilityMapping.lowercased()
        return folded.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// Whether the text has any non-whitespace character (cheap: stops at the first one).
    public static func hasContent(_ text: String) -> Bool {
        text.unicodeScalars.contains { !$0.properties.isWhitespace }
    }

    // Most prompts are ASCII, where NFKC is the identity; a byte loop is ~20x faster than Foundation's
    // Unicode path, which matters when splitting million-line corpora. Returns nil for non-ASCII text.
    private static func asciiNormalized(_ text: String) -> String? {
        var copy = text
        return copy.withUTF8 { bytes -> String? in
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            var pendingSpace = false
            for byte in bytes {
                guard byte < 0x80 else { return nil }
                // ASCII whitespace as Character.isWhitespace sees it: \t \n \v \f \r and space.
                if byte == 0x20 || (0x09...0x0D).contains(byte) {
                    pendingSpace = !out.isEmpty
                    continue
                }
                if pendingSpace { out.append(0x20); pendingSpace = false }
                out.append((0x41...0x5A).contains(byte) ? byte | 0x20 : byte)
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
