/// The HF `pre_tokenizer` steps UniGuard implements for BPE and Unigram: each turns pieces of
/// normalised text into smaller pieces that the model then tokenises independently.
public indirect enum PreTokenizerStep: Sendable, Equatable {
    /// BERT: whitespace separates, punctuation stands alone.
    case bert
    /// Splits on whitespace, which is dropped.
    case whitespaceSplit
    /// `\w+|[^\w\s]+`.
    case whitespace
    /// GPT-2/RoBERTa: optional prefix space, the GPT-2 split regex, then bytes mapped to printable scalars.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// SentencePiece: spaces become `replacement` (▁), optionally prepended, and each ▁ starts a piece.
    case metaspace(replacement: Unicode.Scalar, prepend: PrependScheme, split: Bool)
    case sequence([PreTokenizerStep])

    public enum PrependScheme: Sendable, Equatable {
        case always, first, never
    }

    /// Splits `pieces`; `isFirst` says the text starts at the beginning of the input (Metaspace `first`).
    public func split(_ pieces: [[Unicode.Scalar]], isFirst: Bool) -> [[Unicode.Scalar]] {
        switch self {
        case .sequence(let steps):
            return steps.reduce(pieces) { $1.split($0, isFirst: isFirst) }
        default:
            return pieces.enumerated().flatMap { i, p in splitOne(p, isFirst: isFirst && i == 0) }
        }
    }

    private func splitOne(_ text: [Unicode.Scalar], isFirst: Bool) -> [[Unicode.Scalar]] {
        switch self {
        case .bert:
            var words: [Range<Int>] = []
            BertPreTokenizer.split(text, range: 0..<text.count, into: &words)
            return words.map { Array(text[$0]) }
        case .whitespaceSplit:
            return text.split(whereSeparator: { $0.properties.isWhitespace }).map(Array.init)
        case .whitespace:
            return Self.runs(text) { s -> Int in
                if s.properties.isWhitespace { return 0 }
                return Self.isWordScalar(s) ? 1 : 2
            }
        case .byteLevel(let addPrefixSpace, let useRegex):
            var t = text
            if addPrefixSpace && t.first != " " { t.insert(" ", at: 0) }
            let ranges = useRegex ? GPT2Split.ranges(t) : (t.isEmpty ? [] : [0..<t.count])
            return ranges.map { ByteLevelAlphabet.map(t[$0]) }
        case .metaspace(let replacement, let prepend, let split):
            var t = text.map { $0 == " " ? replacement : $0 }
            let shouldPrepend = prepend == .always || (prepend == .first && isFirst)
            if shouldPrepend && t.first != replacement { t.insert(replacement, at: 0) }
            guard split else { return t.isEmpty ? [] : [t] }
            // Each replacement starts a new piece (HF `MergedWithNext`).
            var out: [[Unicode.Scalar]] = []
            var start = 0
            for i in t.indices where t[i] == replacement && i > start {
                out.append(Array(t[start..<i])); start = i
            }
            if start < t.count { out.append(Array(t[start...])) }
            return out
        case .sequence:
            return split([text], isFirst: isFirst)
        }
    }

    /// Maximal runs of scalars with the same nonzero class; class 0 is dropped.
    private static func runs(_ text: [Unicode.Scalar], _ classOf: (Unicode.Scalar) -> Int) -> [[Unicode.Scalar]] {
        var out: [[Unicode.Scalar]] = []
        var start = 0
        var current = -1
        for (i, s) in text.enumerated() {
            let c = classOf(s)
            if c != current {
                if current > 0 { out.append(Array(text[start..<i])) }
                start = i; current = c
            }
        }
        if current > 0 { out.append(Array(text[start...])) }
        return out
    }

    /// Regex `\w`: letters, marks, digits and connector punctuation.
    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation:
            return true
        default:
            return false
        }
    }
}
