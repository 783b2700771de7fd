/// SentencePiece Unigram (HF `Unigram` model): the segmentation maximising the sum of piece
/// log-probabilities (Viterbi), characters no piece covers becoming [UNK] at `minScore - 10`.
struct UnigramModel: Sendable {
    let trie: ScalarTrie
    let vocab: [String: Int32]
    let scores: [Double]
    let unkId: Int32?
    let byteFallback: Bool
    let unkScore: Double

    /// HF's penalty below the lowest piece score for an unknown character.
    static let unknownPenalty = 10.0

    init(pieces: [(String, Double)], unkId: Int32?, byteFallback: Bool) {
        var trie = ScalarTrie()
        var vocab: [String: Int32] = [:]
        for (i, (token, _)) in pieces.enumerated() {
            trie.insert(token.unicodeScalars, value: Int32(i))
            vocab[token] = Int32(i)
        }
        self.trie = trie
        self.vocab = vocab
        self.scores = pieces.map(\.1)
        self.unkId = unkId
        self.byteFallback = byteFallback
        self.unkScore = (scores.min() ?? 0) - Self.unknownPenalty
    }

    func appendIds(of text: [Unicode.Scalar], to ids: inout [Int32]) {
        guard !text.isEmpty else { return }
        let n = text.count
        // Best path ending at each position: its score, where its last piece starts, and that piece's id.
        var score = [Double](repeating: 0, count: n + 1)
        var from = [Int](repeating: -1, count: n + 1)
        var piece = [Int32](repeating: -1, count: n + 1)
        let unk = unkId ?? -1
        for start in 0..<n {
            let base = score[start]
            var hasSingle = false
            // Candidates in increasing length; a later one wins only with a strictly higher score.
            var node = ScalarTrie.root
            var end = start
            while end < n, let next = trie.child(node, text[end]) {
                node = next
                end += 1
                guard let id = trie.value(node) else { continue }
                let candidate = base + scores[Int(id)]
                if from[end] < 0 || candidate > score[end] { score[end] = candidate; from[end] = start; piece[end] = id }
                if end == start + 1 { hasSingle = true }
            }
            if !hasSingle {
                let candidate = base + unkScore
                if from[start + 1] < 0 || candidate > score[start + 1] { score[start + 1] = candidate; from[start + 1] = start; piece[start + 1] = unk }
            }
        }
        // Walk back, fusing consecutive unknown pieces into one as HF does.
        var spans: [(Range<Int>, Int32)] = []
        var end = n
        while end > 0 {
            let start = from[end]
            if piece[end] == unk, let last = spans.last, last.1 == unk, last.0.lowerBound == end {
                spans[spans.count - 1].0 = start..<last.0.upperBound
            } else {
                spans.append((start..<end, piece[end]))
            }
            end = start
        }
        for (range, id) in spans.reversed() {
            if id != unk { ids.append(id); continue }
            appendUnknown(text[range], to: &ids)
        }
    }

    /// An unknown span: its own id if the fused string happens to be a piece, else its bytes'
    /// `<0xXX>` pieces with byte fallback, else [UNK] (HF skips it when there is no [UNK]).
    private func appendUnknown(_ span: ArraySlice<Unicode.Scalar>, to ids: inout [Int32]) {
        let string = String(String.UnicodeScalarView(span))
        if let id = vocab[string] { ids.append(id); return }
        if byteFallback, let bytes = ByteFallback.ids(string.utf8, in: vocab) { ids += bytes; return }
        if let unkId { ids.append(unkId) }
    }
}
