/// Reading the special-token template from tokenizer.json's `post_processor`.
extension TokenizerJSON {
    /// The single-sequence template: TemplateProcessing, BertProcessing, RobertaProcessing, or a
    /// Sequence containing one of them. Nil when there is no post_processor (no special tokens added).
    func specialTemplate() throws -> SpecialTemplate? {
        guard let pp = try optionalObject(root["post_processor"], "post_processor") else { return nil }
        return try template(of: pp, key: "post_processor")
    }

    private func template(of pp: [String: Any], key: String) throws -> SpecialTemplate? {
        let type = try string(pp["type"], "\(key).type")
        switch type {
        case "TemplateProcessing":
            return try templateProcessing(pp, key: key)
        case "BertProcessing", "RobertaProcessing":
            return SpecialTemplate(prefix: [try pair(pp["cls"], "\(key).cls")], suffix: [try pair(pp["sep"], "\(key).sep")])
        case "ByteLevel":
            return SpecialTemplate(prefix: [], suffix: [])
        case "Sequence":
            var found: SpecialTemplate?
            for (i, p) in try array(pp["processors"], "\(key).processors").enumerated() {
                let sub = "\(key).processors[\(i)]"
                if let t = try template(of: try object(p, sub), key: sub), !(t.prefix.isEmpty && t.suffix.isEmpty) { found = t }
            }
            return found ?? SpecialTemplate(prefix: [], suffix: [])
        default:
            throw unsupported("post_processor type '\(type)' (UniGuard reads TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)")
        }
    }

    /// `["[CLS]", 101]`: a token and its id.
    private func pair(_ value: Any?, _ key: String) throws -> Int32 {
        let a = try array(value, key)
        guard a.count == 2 else { throw invalid(key, "must be [token, id]") }
        return try tokenId(a[1], "\(key)[1]")
    }

    private func templateProcessing(_ pp: [String: Any], key: String) throws -> SpecialTemplate {
        let specials = try optionalObject(pp["special_tokens"], "\(key).special_tokens") ?? [:]
        var prefix: [Int32] = []
        var suffix: [Int32] = []
        var seenSequence = false
        for (i, item) in try array(pp["single"], "\(key).single").enumerated() {
            let itemKey = "\(key).single[\(i)]"
            let o = try object(item, itemKey)
            if o["Sequence"] != nil {
                guard !seenSequence else { throw invalid(itemKey, "repeats the sequence in a single-sequence template") }
                seenSequence = true
            } else if let st = o["SpecialToken"] {
                let name = try string(try object(st, "\(itemKey).SpecialToken")["id"], "\(itemKey).SpecialToken.id")
                let entry = try object(specials[name], "\(key).special_tokens[\"\(name)\"]")
                let ids = try array(entry["ids"], "\(key).special_tokens[\"\(name)\"].ids").enumerated().map {
                    try tokenId($1, "\(key).special_tokens[\"\(name)\"].ids[\($0)]")
                }
                if seenSequence { suffix += ids } else { prefix += ids }
            } else {
                throw invalid(itemKey, "must be a SpecialToken or a Sequence")
            }
        }
        guard seenSequence else { throw invalid("\(key).single", "has no Sequence item") }
        return SpecialTemplate(prefix: prefix, suffix: suffix)
    }
}
