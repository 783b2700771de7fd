/// Two-way token ↔ id map of a tokenizer, added tokens included.
public struct Vocabulary: Sendable, Equatable {
    public private(set) var ids: [String: Int32]
    /// Indexed by id; nil where no token has that id.
    private var tokens: [String?]

    /// Later entries win when a token appears twice (HF's vocab.txt loading does the same).
    public init<S: Sequence<(String, Int32)>>(_ entries: S) {
        var ids: [String: Int32] = [:]
        var tokens: [String?] = []
        for (token, id) in entries where id >= 0 {
            ids[token] = id
            if Int(id) >= tokens.count { tokens.append(contentsOf: repeatElement(nil, count: Int(id) + 1 - tokens.count)) }
            tokens[Int(id)] = token
        }
        self.ids = ids
        self.tokens = tokens
    }

    /// One past the largest id (HF's `len(tokenizer)`), the embedding rows the model needs.
    public var size: Int { tokens.count }

    public func id(of token: String) -> Int32? { ids[token] }

    public func token(of id: Int32) -> String? {
        id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil
    }

    /// Adds tokens not already present (added tokens usually repeat vocabulary entries).
    public mutating func add(_ token: String, id: Int32) {
        guard id >= 0 else { return }
        ids[token] = id
        if Int(id) >= tokens.count { tokens.append(contentsOf: repeatElement(nil, count: Int(id) + 1 - tokens.count)) }
        tokens[Int(id)] = token
    }
}
