/// Token ids for one text, with the model's special tokens added.
public struct Encoding: Sendable, Equatable {
    public var ids: [Int32]
    public var tokens: [String]
    public init(ids: [Int32], tokens: [String]) { self.ids = ids; self.tokens = tokens }
}

/// A right-padded batch ready for the encoder, row-major [batch, seqLen].
public struct TokenBatch: Sendable {
    public let batch: Int
    public let seqLen: Int
    /// Token ids; the pad id where `mask` is 0.
    public var ids: [Int32]
    /// 1 for a real token, 0 for padding.
    public var mask: [Float]
    /// Segment ids (all 0 for single texts).
    public var typeIds: [Int32]
    /// Real tokens per row.
    public var lengths: [Int]

    public init(batch: Int, seqLen: Int, ids: [Int32], mask: [Float], typeIds: [Int32], lengths: [Int]) {
        self.batch = batch; self.seqLen = seqLen; self.ids = ids; self.mask = mask; self.typeIds = typeIds; self.lengths = lengths
    }
}

/// Special-token ids the encoder and the training heads need.
public struct SpecialTokens: Sendable, Equatable {
    public var pad: Int32
    public var unk: Int32
    public var cls: Int32
    public var sep: Int32
    public var mask: Int32
    public init(pad: Int32, unk: Int32, cls: Int32, sep: Int32, mask: Int32) {
        self.pad = pad; self.unk = unk; self.cls = cls; self.sep = sep; self.mask = mask
    }
}

/// A subword tokenizer (WordPiece today; byte-level BPE and Unigram fit the same shape).
public protocol Tokenizer: Sendable {
    var vocabSize: Int { get }
    var special: SpecialTokens { get }
    /// Subword tokens of `text`, without special tokens added around it.
    func tokenize(_ text: String) -> [String]
    /// Ids with the model's special tokens around them, truncated so the total is at most `maxLength`.
    func encode(_ text: String, maxLength: Int?) -> Encoding
    func id(of token: String) -> Int32?
    func token(of id: Int32) -> String?
}

extension Tokenizer {
    /// Encodes and right-pads `texts` to the longest row (at most `maxLength` tokens each).
    public func batch(_ texts: [String], maxLength: Int) -> TokenBatch {
        TokenBatch.padded(texts.map { encode($0, maxLength: maxLength) }, pad: special.pad)
    }
}

extension TokenBatch {
    /// Right-pads already encoded rows to the longest.
    public static func padded(_ encs: [Encoding], pad: Int32) -> TokenBatch {
        let t = max(1, encs.map(\.ids.count).max() ?? 1)
        var ids = [Int32](repeating: pad, count: encs.count * t)
        var mask = [Float](repeating: 0, count: encs.count * t)
        for (r, e) in encs.enumerated() {
            for (c, id) in e.ids.enumerated() { ids[r * t + c] = id; mask[r * t + c] = 1 }
        }
        return TokenBatch(batch: encs.count, seqLen: t, ids: ids, mask: mask,
                          typeIds: [Int32](repeating: 0, count: encs.count * t), lengths: encs.map(\.ids.count))
    }
}
