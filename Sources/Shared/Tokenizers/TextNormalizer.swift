import Foundation

/// The HF `normalizer` steps UniGuard implements for BPE and Unigram tokenizers, applied to scalars.
public indirect enum TextNormalizer: Sendable {
    case bert(BertNormalizer)
    case nfc, nfd, nfkc, nfkd
    /// Per-scalar full lower-case mapping.
    case lowercase
    /// Drops every combining mark (Mn, Mc, Me), as HF's `StripAccents`.
    case stripAccents
    case strip(left: Bool, right: Bool)
    case prepend([Unicode.Scalar])
    case replace(ReplacePattern, with: [Unicode.Scalar])
    case precompiled(PrecompiledCharsMap)
    /// SentencePiece's `nmt_nfkc` clean-up without the NFKC (HF's `Nmt`): drops C0/C1 controls, turns other
    /// breaks and invisible spaces (tab, newlines, zero-width, BOM, U+2581, U+FFFD) into a space.
    case nmt
    case sequence([TextNormalizer])

    /// What `Replace` looks for: a literal, or a run of one scalar repeated at least `minimum` times
    /// (the `" {2,}"` regex that SentencePiece conversions emit).
    public enum ReplacePattern: Sendable, Equatable {
        case literal([Unicode.Scalar])
        case run(Unicode.Scalar, minimum: Int)
    }

    public func apply(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        switch self {
        case .bert(let n):
            var out: [Unicode.Scalar] = []
            n.normalize(text[...], into: &out)
            return out
        case .nfc: return Self.foundation(text) { $0.precomposedStringWithCanonicalMapping }
        case .nfd: return Self.foundation(text) { $0.decomposedStringWithCanonicalMapping }
        case .nfkc: return Self.foundation(text) { $0.precomposedStringWithCompatibilityMapping }
        case .nfkd: return Self.foundation(text) { $0.decomposedStringWithCompatibilityMapping }
        case .lowercase:
            var out: [Unicode.Scalar] = []
            out.reserveCapacity(text.count)
            for s in text {
                if s.properties.changesWhenLowercased { out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars) } else { out.append(s) }
            }
            return out
        case .stripAccents:
            return text.filter {
                switch $0.properties.generalCategory {
                case .nonspacingMark, .spacingMark, .enclosingMark: return false
                default: return true
                }
            }
        case .strip(let left, let right):
            var lo = 0, hi = text.count
            if left { while lo < hi, text[lo].properties.isWhitespace { lo += 1 } }
            if right { while hi > lo, text[hi - 1].properties.isWhitespace { hi -= 1 } }
            return Array(text[lo..<hi])
        case .prepend(let prefix):
            return text.isEmpty ? text : prefix + text
        case .replace(let pattern, let replacement):
            return Self.replace(text, pattern, replacement)
        case .precompiled(let map):
            return map.normalize(text)
        case .nmt:
            return Self.nmt(text)
        case .sequence(let steps):
            return steps.reduce(text) { $1.apply($0) }
        }
    }

    private static func nmt(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for s in text {
            switch s.value {
            case 0x01...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x8F, 0x9F: continue
            case 0x09, 0x0A, 0x0C, 0x0D, 0x1680, 0x200B...0x200F, 0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD: out.append(" ")
            default: out.append(s)
            }
        }
        return out
    }

    private static func foundation(_ text: [Unicode.Scalar], _ transform: (String) -> String) -> [Unicode.Scalar] {
        if text.allSatisfy(\.isASCII) { return text }  // every normal form leaves ASCII alone
        return Array(transform(String(String.UnicodeScalarView(text))).unicodeScalars)
    }

    private static func replace(_ text: [Unicode.Scalar], _ pattern: ReplacePattern, _ replacement: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var i = 0
        switch pattern {
        case .literal(let needle):
            guard !needle.isEmpty else { return text }
            while i < text.count {
                if text[i] == needle[0], i + needle.count <= text.count, text[i..<(i + needle.count)].elementsEqual(needle) {
                    out += replacement
                    i += needle.count
                } else {
                    out.append(text[i]); i += 1
                }
            }
        case .run(let s, let minimum):
            while i < text.count {
                var j = i
                while j < text.count, text[j] == s { j += 1 }
                if j - i >= max(1, minimum) { out += replacement; i = j } else if j > i { out += text[i..<j]; i = j } else { out.append(text[i]); i += 1 }
            }
        }
        return out
    }
}
