/// SentencePiece's compiled normalisation rules (`precompiled_charsmap`, e.g. XLM-R's nmt_nfkc):
/// a Darts double-array trie over UTF-8 bytes whose values index NUL-terminated replacements.
///
/// Layout: little-endian u32 trie size in bytes, the trie's u32 units, then the replacement blob.
public struct PrecompiledCharsMap: Sendable, Equatable {
    private let units: [UInt32]
    private let replacements: [UInt8]

    public enum ParseError: Error, Equatable {
        case truncated
        case replacementNotUTF8
    }

    public init(_ bytes: [UInt8]) throws {
        guard bytes.count >= 4 else { throw ParseError.truncated }
        let trieBytes = Int(Self.u32(bytes, 0))
        guard trieBytes % 4 == 0, trieBytes >= 4, 4 + trieBytes <= bytes.count else { throw ParseError.truncated }
        units = (0..<(trieBytes / 4)).map { Self.u32(bytes, 4 + 4 * $0) }
        replacements = Array(bytes[(4 + trieBytes)...])
        guard String(validating: replacements, as: UTF8.self) != nil else { throw ParseError.replacementNotUTF8 }
    }

    private static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }

    /// HF's `Precompiled` normaliser: per grapheme cluster, a cluster shorter than 6 UTF-8 bytes
    /// with any rule matching a prefix of it is replaced whole by the shortest such rule's output;
    /// otherwise each scalar is replaced by its own rule or kept. (HF documents this as odd but
    /// required to match SentencePiece on XNLI.)
    public func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for grapheme in String(String.UnicodeScalarView(text)) {
            if grapheme.utf8.count < 6, let r = firstMatch(grapheme.utf8) {
                appendReplacement(at: r, to: &out)
                continue
            }
            for s in grapheme.unicodeScalars {
                if let r = firstMatch(s.utf8) {
                    appendReplacement(at: r, to: &out)
                } else {
                    out.append(s)
                }
            }
        }
        return out
    }

    /// The value of the shortest key that is a prefix of `key` (Darts `commonPrefixSearch`, first result).
    func firstMatch<C: Collection<UInt8>>(_ key: C) -> Int? {
        guard !units.isEmpty else { return nil }
        var pos = Int(Self.offset(units[0]))
        for c in key {
            if c == 0 { return nil }
            pos ^= Int(c)
            guard pos < units.count else { return nil }
            let unit = units[pos]
            if Self.label(unit) != UInt32(c) { return nil }
            pos ^= Int(Self.offset(unit))
            if Self.hasLeaf(unit) {
                guard pos < units.count else { return nil }
                return Int(units[pos] & 0x7FFF_FFFF)
            }
        }
        return nil
    }

    private func appendReplacement(at index: Int, to out: inout [Unicode.Scalar]) {
        guard index < replacements.count else { return }
        var end = index
        while end < replacements.count, replacements[end] != 0 { end += 1 }
        if let s = String(validating: replacements[index..<end], as: UTF8.self) { out += s.unicodeScalars }
    }

    private static func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
    private static func label(_ u: UInt32) -> UInt32 { u & (1 << 31 | 0xFF) }
    private static func offset(_ u: UInt32) -> UInt32 { (u >> 10) << ((u & (1 << 9)) >> 6) }
}
