/// SentencePiece byte fallback: a character outside the vocabulary is spelled as `<0xXX>` byte pieces.
enum ByteFallback {
    private static let digits = Array("0123456789ABCDEF")

    /// `<0xE2>` for byte 0xE2.
    static func token(_ byte: UInt8) -> String {
        "<0x" + String([digits[Int(byte >> 4)], digits[Int(byte & 15)]]) + ">"
    }

    /// The byte pieces of `text`, or nil if the vocabulary lacks any of them.
    static func ids<S: Sequence<UInt8>>(_ bytes: S, in vocab: [String: Int32]) -> [Int32]? {
        var out: [Int32] = []
        for b in bytes {
            guard let id = vocab[token(b)] else { return nil }
            out.append(id)
        }
        return out
    }
}
