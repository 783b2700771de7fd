/// Finds added tokens in text the way HF's `AddedVocabulary` does (leftmost-longest, case-sensitive)
/// and cuts the text around them, so "[SEP]" written in an instruction stays one special token.
struct AddedTokenSplitter: Sendable {
    /// A stretch of text to tokenise normally, or a matched added token.
    enum Piece: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    private let trie: ScalarTrie
    private let tokens: [AddedToken]
    /// ASCII scalars that can start a token: most text is skipped without a trie probe.
    private let asciiStarts: (UInt64, UInt64)

    init(_ tokens: [AddedToken]) {
        var trie = ScalarTrie()
        for (i, t) in tokens.enumerated() where !t.content.isEmpty {
            trie.insert(t.content.unicodeScalars, value: Int32(i))
        }
        var starts: (UInt64, UInt64) = (0, 0)
        for t in tokens {
            guard let first = t.content.unicodeScalars.first, first.isASCII else { continue }
            if first.value < 64 { starts.0 |= 1 << UInt64(first.value) } else { starts.1 |= 1 << UInt64(first.value - 64) }
        }
        self.trie = trie
        self.tokens = tokens
        self.asciiStarts = starts
    }

    @inline(__always)
    private func mayStartToken(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 64 { return asciiStarts.0 & (1 << UInt64(v)) != 0 }
        if v < 128 { return asciiStarts.1 & (1 << UInt64(v - 64)) != 0 }
        return true
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Splits `text[range]` into non-empty text pieces and matched tokens, in order.
    func split(_ text: [Unicode.Scalar], range: Range<Int>) -> [Piece] {
        if tokens.isEmpty { return range.isEmpty ? [] : [.text(range)] }
        var pieces: [Piece] = []
        var textStart = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            guard mayStartToken(text[i]) else { i += 1; continue }
            guard let match = trie.longestMatch(in: text, from: i, to: range.upperBound) else { i += 1; continue }
            let token = tokens[Int(match.value)]
            if token.singleWord && !isWordBoundary(text, start: i, end: match.end, range: range) {
                // The matcher consumed these characters; HF does not retry shorter tokens inside them.
                i = match.end
                continue
            }
            var start = i
            var end = match.end
            if token.lstrip { while start > textStart, text[start - 1].isBertWhitespace { start -= 1 } }
            if token.rstrip { while end < range.upperBound, text[end].isBertWhitespace { end += 1 } }
            if textStart < start { pieces.append(.text(textStart..<start)) }
            pieces.append(.token(token.id))
            textStart = end
            i = end
        }
        if textStart < range.upperBound { pieces.append(.text(textStart..<range.upperBound)) }
        return pieces
    }

    private func isWordBoundary(_ text: [Unicode.Scalar], start: Int, end: Int, range: Range<Int>) -> Bool {
        let before = start == range.lowerBound || !Self.isWordScalar(text[start - 1])
        let after = end == range.upperBound || !Self.isWordScalar(text[end])
        return before && after
    }

    /// Regex `\w`: letters, digits, marks and connector punctuation such as `_`.
    private static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let v = s.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        let p = s.properties
        return p.isAlphabetic || p.numericType != nil || p.generalCategory == .connectorPunctuation
            || p.generalCategory == .nonspacingMark || p.generalCategory == .spacingMark
    }
}
