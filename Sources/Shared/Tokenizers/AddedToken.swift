/// A token matched verbatim in the text before subword tokenisation and never split
/// (HF `added_tokens`: BERT's [CLS]/[SEP]/..., or tokens a user added).
public struct AddedToken: Sendable, Equatable {
    public var id: Int32
    public var content: String
    /// Special tokens are control tokens ([CLS], [SEP], ...) rather than vocabulary extensions.
    public var special: Bool
    /// Match only when not inside a word.
    public var singleWord: Bool
    /// Absorb whitespace on the left of a match.
    public var lstrip: Bool
    /// Absorb whitespace on the right of a match.
    public var rstrip: Bool
    /// Match in the normalised text (true) or in the raw text (false, as for BERT's special tokens).
    public var normalized: Bool

    public init(id: Int32, content: String, special: Bool = true, singleWord: Bool = false,
                lstrip: Bool = false, rstrip: Bool = false, normalized: Bool = false) {
        self.id = id; self.content = content; self.special = special; self.singleWord = singleWord
        self.lstrip = lstrip; self.rstrip = rstrip; self.normalized = normalized
    }
}
