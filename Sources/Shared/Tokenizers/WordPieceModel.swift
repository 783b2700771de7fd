/// WordPiece proper: greedy longest-match-first over the vocabulary, `##` marking word continuations.
struct WordPieceModel: Sendable {
    let trie: ScalarTrie
    /// Trie node after the continuation prefix; nil when no vocabulary entry starts with it.
    let continuationNode: Int32?
    let unkId: Int32
    let maxInputCharsPerWord: Int

    init(vocab: [String: Int32], unkId: Int32, continuingSubwordPrefix: String, maxInputCharsPerWord: Int) {
        var trie = ScalarTrie()
        for (token, id) in vocab { trie.insert(token.unicodeScalars, value: id) }
        self.trie = trie
        self.continuationNode = trie.node(for: continuingSubwordPrefix.unicodeScalars)
        self.unkId = unkId
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    /// Appends the ids of the pieces of `text[word]`; a word with any unmatched remainder, or longer
    /// than `maxInputCharsPerWord` scalars, becomes a single [UNK] (HF's `is_bad`).
    func appendPieces(of text: [Unicode.Scalar], word: Range<Int>, to ids: inout [Int32]) {
        if word.count > maxInputCharsPerWord { ids.append(unkId); return }
        let mark = ids.count
        var start = word.lowerBound
        while start < word.upperBound {
            let from: Int32? = start == word.lowerBound ? ScalarTrie.root : continuationNode
            guard let node = from,
                  let match = trie.longestMatch(in: text, from: start, to: word.upperBound, startNode: node)
            else {
                ids.removeSubrange(mark...)
                ids.append(unkId)
                return
            }
            ids.append(match.value)
            start = match.end
        }
    }
}
