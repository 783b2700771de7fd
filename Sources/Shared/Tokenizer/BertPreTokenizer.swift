/// BERT's word splitting (HF `BertPreTokenizer`): whitespace separates words, each punctuation mark is its own word.
public enum BertPreTokenizer {
    /// Appends the ranges of the words of `text[range]` to `words`.
    public static func split(_ text: [Unicode.Scalar], range: Range<Int>, into words: inout [Range<Int>]) {
        var start = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            let s = text[i]
            if s.isBertWhitespace {
                if start < i { words.append(start..<i) }
                start = i + 1
            } else if s.isBertPunctuation {
                if start < i { words.append(start..<i) }
                words.append(i..<(i + 1))
                start = i + 1
            }
            i += 1
        }
        if start < range.upperBound { words.append(start..<range.upperBound) }
    }
}
