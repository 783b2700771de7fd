import Foundation

/// Reading tokenizer.json's `normalizer` for BPE and Unigram pipelines.
extension TokenizerJSON {
    func textNormalizer() throws -> TextNormalizer? {
        guard let n = try optionalObject(root["normalizer"], "normalizer") else { return nil }
        return try textNormalizer(n, key: "normalizer")
    }

    private func textNormalizer(_ n: [String: Any], key: String) throws -> TextNormalizer {
        let type = try string(n["type"], "\(key).type")
        switch type {
        case "BertNormalizer":
            return .bert(BertNormalizer(
                cleanText: try bool(n["clean_text"], "\(key).clean_text", default: true),
                handleChineseChars: try bool(n["handle_chinese_chars"], "\(key).handle_chinese_chars", default: true),
                stripAccents: try optionalBool(n["strip_accents"], "\(key).strip_accents"),
                lowercase: try bool(n["lowercase"], "\(key).lowercase", default: true)))
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Nmt": return .nmt
        case "Lowercase": return .lowercase
        case "StripAccents": return .stripAccents
        case "Strip":
            return .strip(left: try bool(n["strip_left"], "\(key).strip_left", default: true),
                          right: try bool(n["strip_right"], "\(key).strip_right", default: true))
        case "Prepend":
            return .prepend(Array(try string(n["prepend"], "\(key).prepend").unicodeScalars))
        case "Replace":
            let content = Array(try string(n["content"], "\(key).content").unicodeScalars)
            return .replace(try replacePattern(try object(n["pattern"], "\(key).pattern"), key: "\(key).pattern"), with: content)
        case "Precompiled":
            guard let encoded = n["precompiled_charsmap"], !(encoded is NSNull) else { return .sequence([]) }
            let text = try string(encoded, "\(key).precompiled_charsmap")
            guard let data = Data(base64Encoded: text) else { throw invalid("\(key).precompiled_charsmap", "is not base64") }
            do { return .precompiled(try PrecompiledCharsMap(Array(data))) } catch {
                throw invalid("\(key).precompiled_charsmap", "is not a SentencePiece charsmap (\(error))")
            }
        case "Sequence":
            return .sequence(try array(n["normalizers"], "\(key).normalizers").enumerated().map {
                try textNormalizer(try object($1, "\(key).normalizers[\($0)]"), key: "\(key).normalizers[\($0)]")
            })
        default:
            throw unsupported("\(key) type '\(type)'")
        }
    }

    /// `{"String": s}`, or a `{"Regex": r}` that is a literal or one scalar with `+` / `{n,}`.
    private func replacePattern(_ p: [String: Any], key: String) throws -> TextNormalizer.ReplacePattern {
        if let s = p["String"] { return .literal(Array(try string(s, "\(key).String").unicodeScalars)) }
        let regex = Array(try string(p["Regex"], "\(key).Regex").unicodeScalars)
        let meta = Set("\\^$.|?*+()[]{}".unicodeScalars)
        if !regex.isEmpty && !regex.contains(where: meta.contains) { return .literal(regex) }
        if regex.count >= 2, !meta.contains(regex[0]) {
            let quantifier = String(String.UnicodeScalarView(regex[1...]))
            if quantifier == "+" { return .run(regex[0], minimum: 1) }
            if quantifier.hasPrefix("{"), quantifier.hasSuffix(",}"), let n = Int(quantifier.dropFirst().dropLast(2)) {
                return .run(regex[0], minimum: n)
            }
        }
        throw unsupported("\(key).Regex '\(String(String.UnicodeScalarView(regex)))' (UniGuard reads literals, 'x+' and 'x{n,}')")
    }
}
