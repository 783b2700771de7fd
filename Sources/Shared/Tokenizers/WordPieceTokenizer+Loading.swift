import Foundation

/// Loading a WordPiece tokenizer from `vocab.txt` or from an HF `tokenizer.json`.
extension WordPieceTokenizer {
    /// BERT's specials, which HF registers as added tokens matched in raw text whenever the vocabulary has them.
    static let bertSpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

    /// Loads `vocab.txt` with BERT's [CLS] … [SEP] template and special tokens.
    public init(vocabFile url: URL, basic: BasicTokenizer = BasicTokenizer()) throws {
        let lines = try VocabFile.read(url)
        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(lines.count)
        for (i, token) in lines.enumerated() { vocab[token] = Int32(i) }
        let added = Self.bertSpecialTokens.compactMap { name in vocab[name].map { AddedToken(id: $0, content: name) } }
        try self.init(vocab: vocab, addedTokens: added, basic: basic, source: url.path)
    }

    /// Loads an HF `tokenizer.json` whose model is WordPiece.
    public init(tokenizerJSON url: URL) throws {
        try self.init(json: try TokenizerJSON(contentsOf: url))
    }

    /// Parses tokenizer.json content; `path` only names the source in errors.
    public init(tokenizerJSONData data: Data, path: String = "tokenizer.json") throws {
        try self.init(json: try TokenizerJSON(data: data, path: path))
    }

    init(json: TokenizerJSON) throws {
        let model = try json.object(json.root["model"], "model")
        let type = try json.string(model["type"], "model.type", default: "WordPiece")
        guard type == "WordPiece" else { throw json.unsupported("model.type is '\(type)', not WordPiece") }
        let rawVocab = try json.object(model["vocab"], "model.vocab")
        guard !rawVocab.isEmpty else { throw json.invalid("model.vocab", "is empty") }
        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(rawVocab.count)
        for (token, value) in rawVocab {
            guard let i = value as? Int, let id = Int32(exactly: i), id >= 0 else {
                throw json.invalid("model.vocab[\"\(token)\"]", "must be a non-negative integer id")
            }
            vocab[token] = id
        }
        let maxChars = try json.int(model["max_input_chars_per_word"], "model.max_input_chars_per_word", default: 100)
        guard maxChars > 0 else { throw json.invalid("model.max_input_chars_per_word", "must be positive") }
        try json.requireBertPreTokenizer()
        let padding = try json.optionalObject(json.root["padding"], "padding")
        let padId = try padding.map { try json.tokenId($0["pad_id"], "padding.pad_id") }
        try self.init(
            vocab: vocab,
            addedTokens: try json.addedTokens(),
            basic: BasicTokenizer(normalizer: try json.bertNormalizer()),
            unkToken: try json.string(model["unk_token"], "model.unk_token", default: "[UNK]"),
            continuingSubwordPrefix: try json.string(model["continuing_subword_prefix"], "model.continuing_subword_prefix", default: "##"),
            maxInputCharsPerWord: maxChars,
            template: try json.specialTemplate() ?? SpecialTemplate(prefix: [], suffix: []),
            padId: padId,
            source: json.path)
    }
}

extension TokenizerJSON {
    /// `normalizer`: BertNormalizer, or none at all (text used as is).
    func bertNormalizer() throws -> BertNormalizer {
        guard let n = try optionalObject(root["normalizer"], "normalizer") else {
            return BertNormalizer(cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false)
        }
        let type = try string(n["type"], "normalizer.type")
        guard type == "BertNormalizer" else {
            throw unsupported("normalizer type '\(type)' with a WordPiece model (UniGuard reads BertNormalizer)")
        }
        return BertNormalizer(
            cleanText: try bool(n["clean_text"], "normalizer.clean_text", default: true),
            handleChineseChars: try bool(n["handle_chinese_chars"], "normalizer.handle_chinese_chars", default: true),
            stripAccents: try optionalBool(n["strip_accents"], "normalizer.strip_accents"),
            lowercase: try bool(n["lowercase"], "normalizer.lowercase", default: true))
    }

    /// WordPiece is only implemented behind BERT's whitespace-and-punctuation splitting.
    func requireBertPreTokenizer() throws {
        let p = try object(root["pre_tokenizer"], "pre_tokenizer")
        let type = try string(p["type"], "pre_tokenizer.type")
        guard type == "BertPreTokenizer" else {
            throw unsupported("pre_tokenizer type '\(type)' with a WordPiece model (UniGuard reads BertPreTokenizer)")
        }
    }
}
