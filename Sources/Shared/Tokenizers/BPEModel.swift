/// Byte-pair encoding (HF `BPE` model): start from single characters, then repeatedly apply the
/// lowest-ranked merge (leftmost first among equal ranks) until none applies.
struct BPEModel: Sendable {
    struct Merge: Sendable {
        let rank: Int32
        let id: Int32
    }

    let vocab: [String: Int32]
    /// Merges keyed by the pair of token ids `(left << 32) | right`.
    let merges: [UInt64: Merge]
    let unkId: Int32?
    let fuseUnk: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    let continuingSubwordPrefix: String
    let endOfWordSuffix: String
    /// Ids of one-scalar tokens, so the common case needs no String per character.
    private let singleScalar: [UInt32: Int32]

    init(vocab: [String: Int32], merges: [UInt64: Merge], unkId: Int32?, fuseUnk: Bool, byteFallback: Bool,
         ignoreMerges: Bool, continuingSubwordPrefix: String, endOfWordSuffix: String) {
        self.vocab = vocab
        self.merges = merges
        self.unkId = unkId
        self.fuseUnk = fuseUnk
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.endOfWordSuffix = endOfWordSuffix
        var single: [UInt32: Int32] = [:]
        for (token, id) in vocab {
            var it = token.unicodeScalars.makeIterator()
            if let s = it.next(), it.next() == nil { single[s.value] = id }
        }
        self.singleScalar = single
    }

    static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    func appendIds(of word: [Unicode.Scalar], to ids: inout [Int32]) {
        guard !word.isEmpty else { return }
        if ignoreMerges, let id = vocab[String(String.UnicodeScalarView(word))] { ids.append(id); return }
        var symbols = initialSymbols(word)
        merge(&symbols)
        ids += symbols
    }

    /// One id per character (with the continuation prefix / end-of-word suffix where configured);
    /// unknown characters become [UNK], consecutive ones fused when `fuseUnk`, or their bytes'
    /// `<0xXX>` tokens with `byteFallback`.
    private func initialSymbols(_ word: [Unicode.Scalar]) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.count)
        var pendingUnk = false
        let plain = continuingSubwordPrefix.isEmpty && endOfWordSuffix.isEmpty
        for (i, s) in word.enumerated() {
            let id: Int32?
            if plain {
                id = singleScalar[s.value]
            } else {
                var key = i > 0 ? continuingSubwordPrefix : ""
                key.unicodeScalars.append(s)
                if i == word.count - 1 { key += endOfWordSuffix }
                id = vocab[key]
            }
            if let id {
                pendingUnk = false
                symbols.append(id)
                continue
            }
            if byteFallback, let bytes = ByteFallback.ids(s.utf8, in: vocab) {
                pendingUnk = false
                symbols += bytes
                continue
            }
            guard let unk = unkId else { continue }  // HF drops characters it cannot represent
            if !(pendingUnk && fuseUnk) { symbols.append(unk) }
            pendingUnk = true
        }
        return symbols
    }

    /// Applies merges in rank order; `ranks[k]` caches the merge of symbols k and k+1.
    private func merge(_ symbols: inout [Int32]) {
        guard symbols.count > 1 else { return }
        var ranks = (0..<(symbols.count - 1)).map { merges[Self.pairKey(symbols[$0], symbols[$0 + 1])] }
        while true {
            var best = -1
            var bestRank = Int32.max
            for (k, m) in ranks.enumerated() { if let m, m.rank < bestRank { best = k; bestRank = m.rank } }
            guard best >= 0, let m = ranks[best] else { return }
            symbols[best] = m.id
            symbols.remove(at: best + 1)
            ranks.remove(at: best)
            if best > 0 { ranks[best - 1] = merges[Self.pairKey(symbols[best - 1], symbols[best])] }
            if best < ranks.count { ranks[best] = merges[Self.pairKey(symbols[best], symbols[best + 1])] }
        }
    }
}
