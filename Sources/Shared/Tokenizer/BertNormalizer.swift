import Foundation

/// BERT's text normalisation (HF `BertNormalizer`): clean, pad CJK ideographs, strip accents, lower-case.
public struct BertNormalizer: Sendable, Equatable {
    /// Drop NUL, U+FFFD and C* characters; map every whitespace character to a space.
    public var cleanText: Bool
    /// Put spaces around CJK ideographs so each becomes its own word.
    public var handleChineseChars: Bool
    /// NFD-decompose and drop nonspacing marks (Mn).
    public var stripAccents: Bool
    /// Per-scalar full lower-case mapping (no context rules such as final sigma, like the Rust tokenizer).
    public var lowercase: Bool

    /// `stripAccents: nil` follows `lowercase`, as in HF (uncased models strip accents, cased ones keep them).
    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents ?? lowercase
        self.lowercase = lowercase
    }

    /// Appends the normalised form of `source` to `out`.
    ///
    /// The Rust normaliser runs clean → CJK padding → NFD + drop Mn → lower-case over the whole string.
    /// NFD is done first here, once per segment (and only when it has non-ASCII), because no scalar
    /// that cleaning or CJK padding treats specially changes class under canonical decomposition.
    public func normalize(_ source: ArraySlice<Unicode.Scalar>, into out: inout [Unicode.Scalar]) {
        out.reserveCapacity(out.count + source.count + 8)
        if stripAccents && source.contains(where: { !$0.isASCII }) {
            let text = String(String.UnicodeScalarView(source))
            for s in text.decomposedStringWithCanonicalMapping.unicodeScalars { append(s, to: &out) }
        } else {
            for s in source { append(s, to: &out) }
        }
    }

    @inline(__always)
    private func append(_ s: Unicode.Scalar, to out: inout [Unicode.Scalar]) {
        let v = s.value
        if v < 0x80 {
            // ASCII: no accents, no CJK, a one-scalar lower-case mapping.
            if cleanText {
                if s.isBertControl || v == 0 { return }
                if s.isBertWhitespace { out.append(" "); return }
            }
            if lowercase && v >= 0x41 && v <= 0x5A {
                out.append(Unicode.Scalar(UInt8(v + 0x20)))
            } else {
                out.append(s)
            }
            return
        }
        if cleanText {
            if v == 0xFFFD || s.isBertControl { return }
            if s.isBertWhitespace { out.append(" "); return }
        }
        if handleChineseChars && s.isCJKIdeograph {
            out.append(" "); out.append(s); out.append(" ")
            return
        }
        if stripAccents && s.isNonspacingMark { return }
        if lowercase && s.properties.changesWhenLowercased {
            out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
        } else {
            out.append(s)
        }
    }
}
