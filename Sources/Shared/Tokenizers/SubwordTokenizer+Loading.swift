import Foundation

/// Loading a BPE or Unigram pipeline from an HF `tokenizer.json`.
extension SubwordTokenizer {
    public init(tokenizerJSON url: URL) throws {
        try self.init(json: try TokenizerJSON(contentsOf: url))
    }

    /// Parses tokenizer.json content; `path` only names the source in errors.
    public init(tokenizerJSONData data: Data, path: String = "tokenizer.json") throws {
        try self.init(json: try TokenizerJSON(data: data, path: path))
    }

    init(json: TokenizerJSON) throws {
        let m = try json.object(json.root["model"], "model")
        let type = try json.string(m["type"], "model.type")
        let model: Model
        var entries: [(String, Int32)]
        var unkId: Int32?
        switch type {
        case "BPE":
            let vocab = try json.vocabDictionary(m["vocab"], "model.vocab")
            entries = vocab.map { ($0.key, $0.value) }
            let unkToken = m["unk_token"] is NSNull ? nil : try m["unk_token"].map { try json.string($0, "model.unk_token") }
            if let unkToken {
                guard let id = vocab[unkToken] else { throw json.invalid("model.unk_token", "'\(unkToken)' is not in model.vocab") }
                unkId = id
            }
            let prefix = m["continuing_subword_prefix"] is NSNull ? "" : try json.string(m["continuing_subword_prefix"], "model.continuing_subword_prefix", default: "")
            model = .bpe(BPEModel(
                vocab: vocab,
                merges: try json.bpeMerges(m["merges"], vocab: vocab, prefixLength: prefix.unicodeScalars.count),
                unkId: unkId,
                fuseUnk: try json.bool(m["fuse_unk"], "model.fuse_unk", default: false),
                byteFallback: try json.bool(m["byte_fallback"], "model.byte_fallback", default: false),
                ignoreMerges: try json.bool(m["ignore_merges"], "model.ignore_merges", default: false),
                continuingSubwordPrefix: prefix,
                endOfWordSuffix: m["end_of_word_suffix"] is NSNull ? "" : try json.string(m["end_of_word_suffix"], "model.end_of_word_suffix", default: "")))
        case "Unigram":
            let list = try json.array(m["vocab"], "model.vocab")
            let pieces: [(String, Double)] = try list.enumerated().map { i, entry in
                let pair = try json.array(entry, "model.vocab[\(i)]")
                guard pair.count == 2 else { throw json.invalid("model.vocab[\(i)]", "must be [piece, score]") }
                return (try json.string(pair[0], "model.vocab[\(i)][0]"), try json.double(pair[1], "model.vocab[\(i)][1]"))
            }
            guard !pieces.isEmpty else { throw json.invalid("model.vocab", "is empty") }
            entries = pieces.enumerated().map { ($1.0, Int32($0)) }
            if let raw = m["unk_id"], !(raw is NSNull) {
                let id = try json.tokenId(raw, "model.unk_id")
                guard Int(id) < pieces.count else { throw json.invalid("model.unk_id", "\(id) is outside model.vocab") }
                unkId = id
            }
            model = .unigram(UnigramModel(pieces: pieces, unkId: unkId,
                                          byteFallback: try json.bool(m["byte_fallback"], "model.byte_fallback", default: false)))
        default:
            throw json.unsupported("model.type is '\(type)', not BPE or Unigram")
        }
        let added = try json.addedTokens()
        var vocabulary = Vocabulary(entries)
        for t in added { vocabulary.add(t.content, id: t.id) }
        let template = try json.specialTemplate() ?? SpecialTemplate(prefix: [], suffix: [])
        let padding = try json.optionalObject(json.root["padding"], "padding")
        let padId = try padding.map { try json.tokenId($0["pad_id"], "padding.pad_id") }
        func named(_ names: String...) -> Int32? { names.lazy.compactMap { vocabulary.id(of: $0) }.first }
        let unk = unkId ?? named("<unk>", "[UNK]") ?? 0
        let cls = template.prefix.first ?? named("<s>", "[CLS]", "<|endoftext|>") ?? unk
        let special = SpecialTokens(
            pad: padId ?? named("<pad>", "[PAD]") ?? 0, unk: unk, cls: cls,
            sep: template.suffix.first ?? named("</s>", "[SEP]", "<|endoftext|>") ?? cls,
            mask: named("<mask>", "[MASK]") ?? unk)
        self.init(vocabulary: vocabulary, special: special, template: template, addedTokens: added,
                  normalizer: try json.textNormalizer(), preTokenizer: try json.preTokenizerStep(), model: model)
    }
}

extension TokenizerJSON {
    /// A `{token: id}` object.
    func vocabDictionary(_ value: Any?, _ key: String) throws -> [String: Int32] {
        let raw = try object(value, key)
        guard !raw.isEmpty else { throw invalid(key, "is empty") }
        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(raw.count)
        for (token, v) in raw {
            guard let i = v as? Int, let id = Int32(exactly: i), id >= 0 else {
                throw invalid("\(key)[\"\(token)\"]", "must be a non-negative integer id")
            }
            vocab[token] = id
        }
        return vocab
    }

    /// `model.merges` as `"a b"` strings or `["a", "b"]` pairs; rank is the position, and the merged
    /// token is `a` + `b` without its continuation prefix (HF's rule). Later duplicates win, as in HF.
    func bpeMerges(_ value: Any?, vocab: [String: Int32], prefixLength: Int) throws -> [UInt64: BPEModel.Merge] {
        let list = try array(value ?? [Any](), "model.merges")
        var merges: [UInt64: BPEModel.Merge] = [:]
        merges.reserveCapacity(list.count)
        for (rank, entry) in list.enumerated() {
            let key = "model.merges[\(rank)]"
            let a: String, b: String
            if let line = entry as? String {
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw invalid(key, "'\(line)' is not two tokens separated by one space") }
                a = String(parts[0]); b = String(parts[1])
            } else {
                let pair = try array(entry, key)
                guard pair.count == 2 else { throw invalid(key, "must be two tokens") }
                a = try string(pair[0], "\(key)[0]"); b = try string(pair[1], "\(key)[1]")
            }
            let merged = a + String(String.UnicodeScalarView(b.unicodeScalars.dropFirst(prefixLength)))
            guard let left = vocab[a], let right = vocab[b], let id = vocab[merged] else {
                throw invalid(key, "uses a token missing from model.vocab ('\(a)', '\(b)' or '\(merged)')")
            }
            merges[BPEModel.pairKey(left, right)] = BPEModel.Merge(rank: Int32(rank), id: id)
        }
        return merges
    }
}
