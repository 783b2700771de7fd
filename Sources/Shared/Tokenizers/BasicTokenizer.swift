/// BERT's basic tokenizer (HF `BasicTokenizer` semantics): normalises text and splits it into words and punctuation.
public struct BasicTokenizer: Sendable, Equatable {
    public var normalizer: BertNormalizer

    public init(normalizer: BertNormalizer = BertNormalizer()) { self.normalizer = normalizer }

    /// Uncased BERT defaults: lower-case, strip accents, split CJK ideographs, clean text.
    public init(lowercase: Bool = true, stripAccents: Bool? = nil, handleChineseChars: Bool = true, cleanText: Bool = true) {
        normalizer = BertNormalizer(cleanText: cleanText, handleChineseChars: handleChineseChars,
                                    stripAccents: stripAccents, lowercase: lowercase)
    }

    /// The words of `text`, normalised, before WordPiece.
    public func tokenize(_ text: String) -> [String] {
        let source = ScalarBuffer.scalars(of: text)
        var normalized: [Unicode.Scalar] = []
        normalizer.normalize(source[...], into: &normalized)
        var words: [Range<Int>] = []
        BertPreTokenizer.split(normalized, range: 0..<normalized.count, into: &words)
        return words.map { String(String.UnicodeScalarView(normalized[$0])) }
    }
}
