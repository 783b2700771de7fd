/// A tokenizer.json pipeline around a byte-level BPE or Unigram model (RoBERTa, GPT-2, XLM-R, ...):
/// added tokens → normalizer → pre-tokenizer → model → special-token template, as HF `tokenizers`.
public struct SubwordTokenizer: VocabularyTokenizer {
    /// The subword model and its parameters.
    enum Model: Sendable {
        case bpe(BPEModel)
        case unigram(UnigramModel)
    }

    public let vocabulary: Vocabulary
    public let special: SpecialTokens
    public let template: SpecialTemplate
    public let addedTokens: [AddedToken]
    public let normalizer: TextNormalizer?
    public let preTokenizer: PreTokenizerStep?
    let model: Model
    let rawSplitter: AddedTokenSplitter
    let normalizedSplitter: AddedTokenSplitter

    init(vocabulary: Vocabulary, special: SpecialTokens, template: SpecialTemplate, addedTokens: [AddedToken],
         normalizer: TextNormalizer?, preTokenizer: PreTokenizerStep?, model: Model) {
        self.vocabulary = vocabulary
        self.special = special
        self.template = template
        self.addedTokens = addedTokens
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.rawSplitter = AddedTokenSplitter(addedTokens.filter { !$0.normalized })
        self.normalizedSplitter = AddedTokenSplitter(addedTokens.filter { $0.normalized })
    }

    /// Subword ids of `text` without the template's special tokens.
    public func ids(of text: String) -> [Int32] {
        let source = ScalarBuffer.scalars(of: text)
        var ids: [Int32] = []
        for piece in rawSplitter.split(source, range: 0..<source.count) {
            switch piece {
            case .token(let id):
                ids.append(id)
            case .text(let range):
                let segment = Array(source[range])
                let normalized = normalizer?.apply(segment) ?? segment
                for inner in normalizedSplitter.split(normalized, range: 0..<normalized.count) {
                    switch inner {
                    case .token(let id):
                        ids.append(id)
                    case .text(let r):
                        let isFirst = range.lowerBound == 0 && r.lowerBound == 0
                        let text = Array(normalized[r])
                        for word in preTokenizer?.split([text], isFirst: isFirst) ?? [text] {
                            switch model {
                            case .bpe(let m): m.appendIds(of: word, to: &ids)
                            case .unigram(let m): m.appendIds(of: word, to: &ids)
                            }
                        }
                    }
                }
            }
        }
        return ids
    }

    public func tokens(of ids: [Int32]) -> [String] {
        ids.map { vocabulary.token(of: $0) ?? vocabulary.token(of: special.unk) ?? "" }
    }
}
