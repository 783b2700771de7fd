/// Precomputed BERT character classes, lower-case mappings and canonical decompositions, so the
/// tokenizer's inner loop does one array load per scalar instead of several Unicode property
/// queries (each ~70 ns in the Swift runtime).
struct BertScalarTable: Sendable {
    struct Flags: OptionSet, Sendable {
        let rawValue: UInt8
        static let control = Flags(rawValue: 1)
        static let whitespace = Flags(rawValue: 2)
        static let punctuation = Flags(rawValue: 4)
        static let nonspacingMark = Flags(rawValue: 8)
        static let cjk = Flags(rawValue: 16)
        static let lowercases = Flags(rawValue: 32)
        static let decomposes = Flags(rawValue: 64)
    }

    /// Built on first use (about 20 ms), then shared by every tokenizer and thread.
    static let shared = BertScalarTable()

    /// Flags of every BMP scalar; scalars above U+FFFF are classified on the fly (they are rare).
    private let bmp: [UInt8]
    private let lowercase: [UInt32: [Unicode.Scalar]]
    private let decompositions: [UInt32: [Unicode.Scalar]]

    private init() {
        var decompositions: [UInt32: [Unicode.Scalar]] = [:]
        for entry in CanonicalDecompositionData.table.split(whereSeparator: { $0 == ";" || $0 == "\n" }) {
            let scalars = entry.split(separator: " ").compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
            if scalars.count >= 2 { decompositions[scalars[0].value] = Array(scalars.dropFirst()) }
        }
        var bmp = [UInt8](repeating: 0, count: 0x10000)
        var lowercase: [UInt32: [Unicode.Scalar]] = [:]
        for v in 0..<UInt32(0x10000) {
            guard let s = Unicode.Scalar(v) else { bmp[Int(v)] = Flags.control.rawValue; continue }  // surrogates: Cs
            var f = Self.classify(s)
            if decompositions[v] != nil || Self.isHangulSyllable(v) { f.insert(.decomposes) }
            if f.contains(.lowercases) { lowercase[v] = Array(s.properties.lowercaseMapping.unicodeScalars) }
            bmp[Int(v)] = f.rawValue
        }
        self.bmp = bmp
        self.lowercase = lowercase
        self.decompositions = decompositions
    }

    @inline(__always)
    func flags(_ s: Unicode.Scalar) -> Flags {
        let v = s.value
        if v < 0x10000 { return Flags(rawValue: bmp[Int(v)]) }
        var f = Self.classify(s)
        if decompositions[v] != nil { f.insert(.decomposes) }
        return f
    }

    /// Appends the full lower-case mapping of a scalar flagged `.lowercases`.
    @inline(__always)
    func appendLowercase(_ s: Unicode.Scalar, to out: inout [Unicode.Scalar]) {
        if let l = lowercase[s.value] { out.append(contentsOf: l) } else { out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars) }
    }

    /// Calls `body` with each scalar of the canonical decomposition of a scalar flagged `.decomposes`.
    @inline(__always)
    func forEachDecomposed(_ s: Unicode.Scalar, _ body: (Unicode.Scalar) -> Void) {
        let v = s.value
        if Self.isHangulSyllable(v) {
            // Unicode's algorithmic Hangul decomposition into leading, vowel and optional trailing jamo.
            let index = v - 0xAC00
            if let l = Unicode.Scalar(0x1100 + index / 588) { body(l) }
            if let vowel = Unicode.Scalar(0x1161 + (index % 588) / 28) { body(vowel) }
            if index % 28 != 0, let t = Unicode.Scalar(0x11A7 + index % 28) { body(t) }
        } else if let d = decompositions[v] {
            for x in d { body(x) }
        } else {
            body(s)
        }
    }

    @inline(__always)
    static func isHangulSyllable(_ v: UInt32) -> Bool { v >= 0xAC00 && v <= 0xD7A3 }

    /// The flags from one general-category lookup (the per-class properties would each repeat it).
    private static func classify(_ s: Unicode.Scalar) -> Flags {
        var f: Flags = []
        if s.isASCII {
            if s.isBertControl { f.insert(.control) }
            if s.isBertWhitespace { f.insert(.whitespace) }
            if s.isBertPunctuation { f.insert(.punctuation) }
            if s.value >= 0x41 && s.value <= 0x5A { f.insert(.lowercases) }
            return f
        }
        let p = s.properties
        switch p.generalCategory {
        case .control:
            f.insert(.control)
            if p.isWhitespace { f.insert(.whitespace) }  // U+0085
        case .format, .surrogate, .privateUse, .unassigned:
            f.insert(.control)
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            if p.isWhitespace { f.insert(.whitespace) }
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            f.insert(.punctuation)
        case .nonspacingMark:
            f.insert(.nonspacingMark)
        default:
            break
        }
        if s.isCJKIdeograph { f.insert(.cjk) }
        if p.changesWhenLowercased { f.insert(.lowercases) }
        return f
    }
}
