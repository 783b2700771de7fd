import Foundation

/// Reading tokenizer.json's `pre_tokenizer` for BPE and Unigram pipelines.
extension TokenizerJSON {
    func preTokenizerStep() throws -> PreTokenizerStep? {
        guard let p = try optionalObject(root["pre_tokenizer"], "pre_tokenizer") else { return nil }
        return try preTokenizerStep(p, key: "pre_tokenizer")
    }

    private func preTokenizerStep(_ p: [String: Any], key: String) throws -> PreTokenizerStep {
        let type = try string(p["type"], "\(key).type")
        switch type {
        case "BertPreTokenizer": return .bert
        case "WhitespaceSplit": return .whitespaceSplit
        case "Whitespace": return .whitespace
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: try bool(p["add_prefix_space"], "\(key).add_prefix_space", default: true),
                              useRegex: try bool(p["use_regex"], "\(key).use_regex", default: true))
        case "Metaspace":
            let replacement = try string(p["replacement"], "\(key).replacement", default: "\u{2581}").unicodeScalars
            guard replacement.count == 1, let r = replacement.first else {
                throw invalid("\(key).replacement", "must be a single character")
            }
            let scheme: PreTokenizerStep.PrependScheme
            if let s = p["prepend_scheme"], !(s is NSNull) {
                switch try string(s, "\(key).prepend_scheme") {
                case "always": scheme = .always
                case "first": scheme = .first
                case "never": scheme = .never
                case let other: throw invalid("\(key).prepend_scheme", "is '\(other)', not always, first or never")
                }
            } else {
                scheme = try bool(p["add_prefix_space"], "\(key).add_prefix_space", default: true) ? .always : .never
            }
            return .metaspace(replacement: r, prepend: scheme, split: try bool(p["split"], "\(key).split", default: true))
        case "Sequence":
            return .sequence(try array(p["pretokenizers"], "\(key).pretokenizers").enumerated().map {
                try preTokenizerStep(try object($1, "\(key).pretokenizers[\($0)]"), key: "\(key).pretokenizers[\($0)]")
            })
        default:
            throw unsupported("\(key) type '\(type)'")
        }
    }
}
