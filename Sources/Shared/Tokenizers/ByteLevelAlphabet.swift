/// GPT-2's `bytes_to_unicode`: every byte maps to a printable scalar, so byte-level BPE vocabularies
/// are ordinary strings (space becomes "Ġ", newline "Ċ").
enum ByteLevelAlphabet {
    static let table: [Unicode.Scalar] = {
        var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var scalars = printable
        var next = 256
        for b in 0..<256 where !printable.contains(b) {
            printable.append(b); scalars.append(next); next += 1
        }
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        for (b, s) in zip(printable, scalars) { table[b] = Unicode.Scalar(UInt16(s)) ?? " " }
        return table
    }()

    /// The byte-level spelling of `text`'s UTF-8.
    static func map(_ text: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for s in text { for b in s.utf8 { out.append(table[Int(b)]) } }
        return out
    }
}
