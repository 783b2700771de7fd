/// BERT's word splitting (HF `BertPreTokenizer`): whitespace separates words, each punctuation mark is its own word.
public enum BertPreTokenizer {
    /// Appends the ranges of the words of `text[range]` to `words`.
    public static func split(_ text: [Unicode.Scalar], range: Range<Int>, into words: inout [Range<Int>]) {
        let table = BertScalarTable.shared
        var start = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            let s = text[i]
            let v = s.value
            // ASCII letters and digits, nearly all of the input, need no table lookup.
            if (v >= 0x61 && v <= 0x7A) || (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) { i += 1; continue }
            let f = table.flags(s)
            if f.contains(.whitespace) {
                if start < i { words.append(start..<i) }
                start = i + 1
            } else if f.contains(.punctuation) {
                if start < i { words.append(start..<i) }
                words.append(i..<(i + 1))
                start = i + 1
            }
            i += 1
        }
        if start < range.upperBound { words.append(start..<range.upperBound) }
    }
}
