/// A tokenizer over a `Vocabulary` and a special-token template. WordPiece and the tokenizer.json models share the
/// `Tokenizer` surface through it; they differ only in how they cut text into ids and how they name unknown ids.
public protocol VocabularyTokenizer: Tokenizer {
    var vocabulary: Vocabulary { get }
    var template: SpecialTemplate { get }
    /// Subword ids of `text` without the template's special tokens.
    func ids(of text: String) -> [Int32]
    /// The token strings of `ids` (unknown ids by the model's own convention).
    func tokens(of ids: [Int32]) -> [String]
}

extension VocabularyTokenizer {
    public var vocabSize: Int { vocabulary.size }

    public func id(of token: String) -> Int32? { vocabulary.id(of: token) }

    public func token(of id: Int32) -> String? { vocabulary.token(of: id) }

    public func tokenize(_ text: String) -> [String] {
        tokens(of: ids(of: text))
    }

    public func encode(_ text: String, maxLength: Int?) -> Encoding {
        let ids = template.apply(to: ids(of: text), maxLength: maxLength)
        return Encoding(ids: ids, tokens: tokens(of: ids))
    }
}
