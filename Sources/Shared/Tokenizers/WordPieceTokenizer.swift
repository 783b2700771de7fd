/// BERT's WordPiece tokenizer, token-for-token compatible with HF `BertTokenizerFast`
/// (MiniLM, E5, BGE and other BERT-family models).
public struct WordPieceTokenizer: VocabularyTokenizer {
    public let basic: BasicTokenizer
    public let vocabulary: Vocabulary
    public let special: SpecialTokens
    public let template: SpecialTemplate
    public let addedTokens: [AddedToken]
    let model: WordPieceModel
    /// Added tokens matched in raw text (BERT's specials) and in normalised text.
    let rawSplitter: AddedTokenSplitter
    let normalizedSplitter: AddedTokenSplitter

    /// Builds a tokenizer from its parts. `template` nil means [CLS] … [SEP] looked up by name.
    /// Throws when the unknown token (or, without a template, [CLS]/[SEP]) is not in `vocab`.
    public init(vocab: [String: Int32], addedTokens: [AddedToken] = [], basic: BasicTokenizer = BasicTokenizer(),
                unkToken: String = "[UNK]", continuingSubwordPrefix: String = "##", maxInputCharsPerWord: Int = 100,
                template: SpecialTemplate? = nil, padId: Int32? = nil, source: String = "WordPiece vocabulary") throws {
        var vocabulary = Vocabulary(vocab.lazy.map { ($0.key, $0.value) })
        for t in addedTokens { vocabulary.add(t.content, id: t.id) }
        guard let unk = vocabulary.id(of: unkToken) else {
            throw TokenizerError.invalid(path: source, reason: "unknown token '\(unkToken)' is not in the vocabulary")
        }
        let resolved: SpecialTemplate
        if let template {
            resolved = template
        } else {
            guard let cls = vocabulary.id(of: "[CLS]"), let sep = vocabulary.id(of: "[SEP]") else {
                throw TokenizerError.invalid(path: source, reason: "the vocabulary has no [CLS] or no [SEP] token")
            }
            resolved = SpecialTemplate(prefix: [cls], suffix: [sep])
        }
        let cls = resolved.prefix.first ?? vocabulary.id(of: "[CLS]") ?? unk
        let sep = resolved.suffix.first ?? vocabulary.id(of: "[SEP]") ?? unk
        // Missing [PAD]/[MASK] only matter to padding and MLM; fall back rather than refuse the model.
        self.special = SpecialTokens(pad: padId ?? vocabulary.id(of: "[PAD]") ?? 0, unk: unk, cls: cls, sep: sep,
                                     mask: vocabulary.id(of: "[MASK]") ?? unk)
        self.basic = basic
        self.vocabulary = vocabulary
        self.template = resolved
        self.addedTokens = addedTokens
        self.model = WordPieceModel(vocab: vocab, unkId: unk, continuingSubwordPrefix: continuingSubwordPrefix,
                                    maxInputCharsPerWord: maxInputCharsPerWord)
        self.rawSplitter = AddedTokenSplitter(addedTokens.filter { !$0.normalized })
        self.normalizedSplitter = AddedTokenSplitter(addedTokens.filter { $0.normalized })
    }

    /// Subword ids of `text` without the special tokens around it.
    ///
    /// Raw-text added tokens are cut out first, each remaining stretch is normalised, normalised added
    /// tokens are cut out of that, and the rest goes through the BERT pre-tokenizer and WordPiece.
    public func ids(of text: String) -> [Int32] {
        let source = ScalarBuffer.scalars(of: text)
        var ids: [Int32] = []
        ids.reserveCapacity(source.count / 3 + 4)
        var normalized: [Unicode.Scalar] = []
        var words: [Range<Int>] = []
        for piece in rawSplitter.split(source, range: 0..<source.count) {
            switch piece {
            case .token(let id):
                ids.append(id)
            case .text(let range):
                normalized.removeAll(keepingCapacity: true)
                basic.normalizer.normalize(source[range], into: &normalized)
                for inner in normalizedSplitter.split(normalized, range: 0..<normalized.count) {
                    switch inner {
                    case .token(let id):
                        ids.append(id)
                    case .text(let r):
                        words.removeAll(keepingCapacity: true)
                        BertPreTokenizer.split(normalized, range: r, into: &words)
                        for w in words { model.appendPieces(of: normalized, word: w, to: &ids) }
                    }
                }
            }
        }
        return ids
    }

    public func tokens(of ids: [Int32]) -> [String] {
        let unk = vocabulary.token(of: special.unk) ?? "[UNK]"
        return ids.map { vocabulary.token(of: $0) ?? unk }
    }
}
