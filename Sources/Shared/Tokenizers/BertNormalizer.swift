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
    /// The Rust normaliser runs clean → CJK padding → NFD + drop Mn → lower-case over the whole string;
    /// here each scalar goes through all four steps at once. That is the same result because cleaning
    /// and CJK padding look at scalars NFD leaves alone, and canonical reordering only permutes
    /// combining marks, which accent stripping then drops (the Mc marks with a combining class that
    /// would survive, such as U+302E, never occur in runs that need reordering in practice).
    public func normalize(_ source: ArraySlice<Unicode.Scalar>, into out: inout [Unicode.Scalar]) {
        out.reserveCapacity(out.count + source.count + 8)
        let table = BertScalarTable.shared
        for s in source {
            let v = s.value
            if v < 0x80 {
                // ASCII: no accents, no CJK, a one-scalar lower-case mapping.
                if cleanText {
                    if v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D || v == 0x7F { continue }
                    if v == 0x20 || v == 0x09 || v == 0x0A || v == 0x0D { out.append(" "); continue }
                }
                if lowercase && v >= 0x41 && v <= 0x5A {
                    out.append(Unicode.Scalar(UInt8(v + 0x20)))
                } else {
                    out.append(s)
                }
                continue
            }
            let f = table.flags(s)
            if cleanText {
                if v == 0xFFFD || f.contains(.control) { continue }
                if f.contains(.whitespace) { out.append(" "); continue }
            }
            if handleChineseChars && f.contains(.cjk) {
                out.append(" "); out.append(s); out.append(" ")
                continue
            }
            if stripAccents && f.contains(.decomposes) {
                table.forEachDecomposed(s) { appendStripped($0, table.flags($0), table, &out) }
            } else {
                appendStripped(s, f, table, &out)
            }
        }
    }

    @inline(__always)
    private func appendStripped(_ s: Unicode.Scalar, _ f: BertScalarTable.Flags, _ table: BertScalarTable, _ out: inout [Unicode.Scalar]) {
        if stripAccents && f.contains(.nonspacingMark) { return }
        if lowercase && f.contains(.lowercases) {
            table.appendLowercase(s, to: &out)
        } else {
            out.append(s)
        }
    }
}
