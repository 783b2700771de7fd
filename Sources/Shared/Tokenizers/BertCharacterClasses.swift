/// BERT's character classes, as HF `BertTokenizer` (`_is_whitespace`, `_is_control`,
/// `_is_punctuation`, `_is_chinese_char`) and the Rust `BertNormalizer`/`BertPreTokenizer` define them.
/// ASCII is answered without touching the Unicode tables because it is nearly all of the input.
extension Unicode.Scalar {
    /// Tab, newline, carriage return and every `White_Space` scalar (the Rust tokenizer's `char::is_whitespace`).
    @inline(__always)
    var isBertWhitespace: Bool {
        let v = value
        if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) }
        return properties.isWhitespace
    }

    /// General category C* (Cc, Cf, Cs, Co, Cn) except tab, newline and carriage return:
    /// HF drops these, which is why zero-width spaces (Cf) join the words around them.
    @inline(__always)
    var isBertControl: Bool {
        let v = value
        if v < 0x80 { return (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D) || v == 0x7F }
        switch properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    /// ASCII symbols 33-47, 58-64, 91-96, 123-126 (so `$`, `+`, `^`, `` ` `` split off) plus Unicode P*.
    @inline(__always)
    var isBertPunctuation: Bool {
        let v = value
        if v < 0x80 {
            return (v >= 33 && v <= 47) || (v >= 58 && v <= 64) || (v >= 91 && v <= 96) || (v >= 123 && v <= 126)
        }
        switch properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK Unified Ideograph blocks of HF's `_is_chinese_char` (not Hiragana, Katakana or Hangul).
    @inline(__always)
    var isCJKIdeograph: Bool {
        let v = value
        if v < 0x3400 { return false }
        return (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v)
            || (0x20000...0x2A6DF).contains(v) || (0x2A700...0x2B73F).contains(v)
            || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }

    /// General category Mn, the marks accent stripping removes after NFD.
    @inline(__always)
    var isNonspacingMark: Bool {
        value >= 0x300 && properties.generalCategory == .nonspacingMark
    }
}
