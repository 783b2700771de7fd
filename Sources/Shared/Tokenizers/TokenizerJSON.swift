import Foundation

/// A parsed `tokenizer.json` (HF tokenizers' serialisation) with typed accessors whose errors
/// name the file and the JSON path of the offending field.
struct TokenizerJSON {
    let path: String
    let root: [String: Any]

    init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        try self.init(data: data, path: url.path)
    }

    init(data: Data, path: String) throws {
        self.path = path
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            throw TokenizerError.invalid(path: path, reason: "not valid JSON (\(error.localizedDescription))")
        }
        guard let root = parsed as? [String: Any] else {
            throw TokenizerError.invalid(path: path, reason: "the top level is not a JSON object")
        }
        self.root = root
    }

    /// `model.type`, or nil when absent (older files leave it implicit).
    var modelType: String? { (root["model"] as? [String: Any])?["type"] as? String }

    func invalid(_ key: String, _ what: String) -> TokenizerError {
        .invalid(path: path, reason: "\(key) \(what)")
    }

    func unsupported(_ reason: String) -> TokenizerError {
        .unsupported(path: path, reason: reason)
    }

    func object(_ value: Any?, _ key: String) throws -> [String: Any] {
        guard let v = value else { throw invalid(key, "is missing") }
        guard let o = v as? [String: Any] else { throw invalid(key, "must be an object") }
        return o
    }

    /// An optional object: absent and JSON null both give nil.
    func optionalObject(_ value: Any?, _ key: String) throws -> [String: Any]? {
        if value == nil || value is NSNull { return nil }
        return try object(value, key)
    }

    func array(_ value: Any?, _ key: String) throws -> [Any] {
        guard let v = value else { throw invalid(key, "is missing") }
        guard let a = v as? [Any] else { throw invalid(key, "must be an array") }
        return a
    }

    func string(_ value: Any?, _ key: String, default fallback: String? = nil) throws -> String {
        if value == nil || value is NSNull, let fallback { return fallback }
        guard let v = value else { throw invalid(key, "is missing") }
        guard let s = v as? String else { throw invalid(key, "must be a string") }
        return s
    }

    func bool(_ value: Any?, _ key: String, default fallback: Bool) throws -> Bool {
        if value == nil || value is NSNull { return fallback }
        guard let b = value as? Bool else { throw invalid(key, "must be true or false") }
        return b
    }

    /// An optional boolean where null means "not set" (e.g. BertNormalizer.strip_accents).
    func optionalBool(_ value: Any?, _ key: String) throws -> Bool? {
        if value == nil || value is NSNull { return nil }
        return try bool(value, key, default: false)
    }

    func int(_ value: Any?, _ key: String, default fallback: Int? = nil) throws -> Int {
        if value == nil || value is NSNull, let fallback { return fallback }
        guard let v = value else { throw invalid(key, "is missing") }
        // Foundation on Linux bridges JSON true/false to 1/0 too; accepting them is harmless.
        guard let i = v as? Int else { throw invalid(key, "must be an integer") }
        return i
    }

    func double(_ value: Any?, _ key: String) throws -> Double {
        guard let v = value else { throw invalid(key, "is missing") }
        guard let n = v as? NSNumber else { throw invalid(key, "must be a number") }
        return n.doubleValue
    }

    /// A token id: an integer that fits Int32 and is not negative.
    func tokenId(_ value: Any?, _ key: String) throws -> Int32 {
        let i = try int(value, key)
        guard i >= 0, let id = Int32(exactly: i) else { throw invalid(key, "must be a non-negative token id, not \(i)") }
        return id
    }

    /// `added_tokens`, in file order.
    func addedTokens() throws -> [AddedToken] {
        guard let list = root["added_tokens"], !(list is NSNull) else { return [] }
        return try array(list, "added_tokens").enumerated().map { i, entry in
            let key = "added_tokens[\(i)]"
            let o = try object(entry, key)
            return AddedToken(
                id: try tokenId(o["id"], "\(key).id"),
                content: try string(o["content"], "\(key).content"),
                special: try bool(o["special"], "\(key).special", default: false),
                singleWord: try bool(o["single_word"], "\(key).single_word", default: false),
                lstrip: try bool(o["lstrip"], "\(key).lstrip", default: false),
                rstrip: try bool(o["rstrip"], "\(key).rstrip", default: false),
                normalized: try bool(o["normalized"], "\(key).normalized", default: true))
        }
    }
}
