import Foundation

/// Loads the tokenizer of a Hugging Face style model directory.
public enum TokenizerLoader {
    /// Uses `tokenizer.json` when its model type is one UniGuard implements, else `vocab.txt`
    /// (with `tokenizer_config.json`'s casing flags when present). A malformed tokenizer.json is an
    /// error rather than a silent fallback, since it would otherwise tokenise differently from HF.
    public static func load(directory: URL) throws -> any Tokenizer {
        let fm = FileManager.default
        let jsonURL = directory.appendingPathComponent("tokenizer.json")
        let vocabURL = directory.appendingPathComponent("vocab.txt")
        var skipped: String?
        if fm.fileExists(atPath: jsonURL.path) {
            let json = try TokenizerJSON(contentsOf: jsonURL)
            let type = json.modelType ?? "WordPiece"
            switch type {
            case "WordPiece":
                return try WordPieceTokenizer(json: json)
            case "BPE", "Unigram":
                return try SubwordTokenizer(json: json)
            default:
                skipped = "tokenizer.json has model type '\(type)', which UniGuard does not implement"
            }
        }
        if fm.fileExists(atPath: vocabURL.path) {
            return try WordPieceTokenizer(vocabFile: vocabURL, basic: try basicTokenizer(configIn: directory))
        }
        throw TokenizerError.noTokenizer(directory: directory.path,
                                         reason: (skipped.map { $0 + ", and " } ?? "") + "there is no vocab.txt or tokenizer.json")
    }

    /// BERT flags from `tokenizer_config.json` (do_lower_case, strip_accents, tokenize_chinese_chars);
    /// uncased defaults when the file is absent.
    static func basicTokenizer(configIn directory: URL) throws -> BasicTokenizer {
        let url = directory.appendingPathComponent("tokenizer_config.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return BasicTokenizer() }
        let config = try TokenizerJSON(contentsOf: url)
        let c = config.root
        return BasicTokenizer(
            lowercase: try config.bool(c["do_lower_case"], "do_lower_case", default: true),
            stripAccents: try config.optionalBool(c["strip_accents"], "strip_accents"),
            handleChineseChars: try config.bool(c["tokenize_chinese_chars"], "tokenize_chinese_chars", default: true),
            cleanText: true)
    }
}
