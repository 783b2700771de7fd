import Foundation
import Runtime

/// Exact-duplicate filter for the corpus builder: remembers only a 64-bit fingerprint per
/// (policy, label, normalised prompt), so a million-line corpus costs about 8 MB of keys and no texts.
///
/// The key includes the policy and label: the same prompt legitimately appears under several policies
/// (and as a cross-policy pair), and only a repeat under the same policy and label is a duplicate.
/// Normalisation: `PromptText.normalized` (NFKC, lower case, whitespace collapsed) with punctuation and
/// symbols stripped from both ends, so "How do I file taxes?" and "how do i  file taxes" are one prompt.
/// A 64-bit collision (about 3e-8 for a million keys) would drop one distinct prompt; acceptable here.
public struct ExactDeduplicator: Sendable {
    private var seen: Set<UInt64> = []

    public init() {}

    /// Number of fingerprints held.
    public var count: Int { seen.count }

    /// Records the key; false when it was already present (a duplicate).
    public mutating func insert(policy: String, label: SafetyLabel, prompt: String) -> Bool {
        seen.insert(Self.fingerprint(policy: policy, label: label, prompt: prompt)).inserted
    }

    /// Whether the key is present, without recording it.
    public func contains(policy: String, label: SafetyLabel, prompt: String) -> Bool {
        seen.contains(Self.fingerprint(policy: policy, label: label, prompt: prompt))
    }

    /// The 64-bit fingerprint of a (policy, label, prompt) key.
    public static func fingerprint(policy: String, label: SafetyLabel, prompt: String) -> UInt64 {
        var h = FNV1a.hash64(policy.utf8)
        h = FNV1a.continue(h, 0x1F)
        h = FNV1a.continue(h, label == .safe ? 0x30 : 0x31)
        h = FNV1a.continue(h, 0x1F)
        h = FNV1a.continue(h, normalized(prompt).utf8)
        // FNV's low bits are weak for similar strings; the SplitMix finaliser spreads them for the Set.
        return SeededRandom.mix(h)
    }

    /// The text the fingerprint is taken of.
    public static func normalized(_ prompt: String) -> String {
        let text = PromptText.normalized(prompt)
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isEdgeNoise($0) }),
              let last = scalars.lastIndex(where: { !isEdgeNoise($0) }) else { return "" }
        if first == scalars.startIndex && last == scalars.index(before: scalars.endIndex) { return text }
        return String(scalars[first...last])
    }

    /// Punctuation, symbols and spaces at a prompt's ends carry no meaning for dedup ("hi!!" = "hi").
    private static func isEdgeNoise(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return v <= 0x20 || (0x21...0x2F).contains(v) || (0x3A...0x40).contains(v) || (0x5B...0x60).contains(v) || (0x7B...0x7F).contains(v)
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol,
             .spaceSeparator, .control, .format:
            return true
        default:
            return false
        }
    }
}
