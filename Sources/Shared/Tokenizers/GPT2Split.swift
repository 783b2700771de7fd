/// The GPT-2 / RoBERTa pre-tokenisation regex, hand-coded over scalars:
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// (alternatives tried in that order at each position, as the regex engine does).
enum GPT2Split {
    private enum Class { case letter, number, space, other }

    private static func classOf(_ s: Unicode.Scalar) -> Class {
        if s.isASCII {
            let v = s.value
            if (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A) { return .letter }
            if v >= 0x30 && v <= 0x39 { return .number }
            if v == 0x20 || (v >= 0x09 && v <= 0x0D) { return .space }
            return .other
        }
        let p = s.properties
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return p.isWhitespace ? .space : .other
        }
    }

    static func ranges(_ t: [Unicode.Scalar]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        let n = t.count
        var i = 0
        while i < n {
            if let end = contraction(t, at: i) {
                out.append(i..<end); i = end; continue
            }
            // ` ?X+` for X in letters, numbers, other: the optional space binds to the run after it.
            let k = t[i] == " " && i + 1 < n ? i + 1 : i
            let c = classOf(t[k])
            if c != .space {
                var j = k + 1
                while j < n, classOf(t[j]) == c { j += 1 }
                out.append(i..<j); i = j; continue
            }
            // Whitespace: `\s+(?!\S)` leaves the last space of a run for the word that follows.
            var j = i + 1
            while j < n, classOf(t[j]) == .space { j += 1 }
            if j < n && j - i > 1 { j -= 1 }
            out.append(i..<j); i = j
        }
        return out
    }

    private static func contraction(_ t: [Unicode.Scalar], at i: Int) -> Int? {
        guard t[i] == "'", i + 1 < t.count else { return nil }
        switch t[i + 1] {
        case "s", "t", "m", "d": return i + 2
        case "r", "v", "l":
            guard i + 2 < t.count else { return nil }
            let pair = (t[i + 1], t[i + 2])
            if pair == ("r", "e") || pair == ("v", "e") || pair == ("l", "l") { return i + 3 }
            return nil
        default: return nil
        }
    }
}
