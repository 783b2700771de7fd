import Foundation
@testable import Tokenizers
import XCTest

/// Byte-level BPE on a hand-made RoBERTa-style tokenizer.json; expected ids worked out by hand
/// from the merge ranks (see the comments).
final class BPETokenizerTests: XCTestCase {
    static let vocab: [String: Int] = [
        "<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "l": 4, "o": 5, "w": 6, "e": 7, "r": 8, "Ġ": 9,
        "lo": 10, "low": 11, "er": 12, "Ġl": 13, "Ġlower": 15, "<mask>": 16, "Ġlo": 17, "i": 18, "t": 19,
        "'": 20, "s": 21, "'s": 22, "Ã": 23, "©": 24, "Ã©": 25, "Ġlow": 26,
    ]
    static let merges = ["l o", "lo w", "e r", "Ġ l", "Ġl o", "Ġlo w", "Ġlow er", "' s", "Ã ©"]

    static func json(addPrefixSpace: Bool = false, mergesAsPairs: Bool = false) throws -> Data {
        let merges: Any = mergesAsPairs ? merges.map { $0.split(separator: " ").map(String.init) } : merges
        let object: [String: Any] = [
            "version": "1.0",
            "added_tokens": [
                ["id": 0, "content": "<s>", "special": true, "normalized": false],
                ["id": 1, "content": "<pad>", "special": true, "normalized": false],
                ["id": 2, "content": "</s>", "special": true, "normalized": false],
                ["id": 3, "content": "<unk>", "special": true, "normalized": false],
                ["id": 16, "content": "<mask>", "special": true, "lstrip": true, "normalized": false],
            ],
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": addPrefixSpace, "trim_offsets": true, "use_regex": true],
            "post_processor": ["type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                               "trim_offsets": true, "add_prefix_space": addPrefixSpace],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": "<unk>", "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "vocab": vocab, "merges": merges],
        ]
        return try JSONSerialization.data(withJSONObject: object)
    }

    func tokenizer(addPrefixSpace: Bool = false, mergesAsPairs: Bool = false) throws -> SubwordTokenizer {
        try SubwordTokenizer(tokenizerJSONData: try Self.json(addPrefixSpace: addPrefixSpace, mergesAsPairs: mergesAsPairs))
    }

    func testMergesApplyInRankOrder() throws {
        let tok = try tokenizer()
        // "low": l o w → (l,o) rank 0 → lo w → (lo,w) rank 1 → low.
        // "Ġlower": Ġ l o w e r; (l,o) rank 0 beats (e,r) 2 and (Ġ,l) 3 → Ġ lo w e r → (lo,w) 1 → Ġ low e r
        // → (e,r) 2 → Ġ low er; no merge for (Ġ,low) or (low,er), so "Ġlower" is never reached.
        XCTAssertEqual(tok.tokenize("low lower"), ["low", "Ġ", "low", "er"])
        XCTAssertEqual(tok.encode("low lower", maxLength: nil).ids, [0, 11, 9, 11, 12, 2])
    }

    func testGPT2SplitContractionsAndSpaces() throws {
        let tok = try tokenizer()
        // Pieces: "low", " it" (space binds to the word), "'s" (contraction).
        XCTAssertEqual(tok.tokenize("low it's"), ["low", "Ġ", "i", "t", "'s"])
        // Two spaces: the first stands alone (\s+(?!\S)), the second prefixes "lower".
        XCTAssertEqual(tok.tokenize("low  lower"), ["low", "Ġ", "Ġ", "low", "er"])
    }

    func testByteLevelAlphabetAndUnknown() throws {
        let tok = try tokenizer()
        // é is UTF-8 C3 A9, spelled "Ã©" in the byte alphabet, then merged.
        XCTAssertEqual(tok.tokenize("é"), ["Ã©"])
        // 'z' has no token: [UNK] (fuse_unk false), after "low" merged.
        XCTAssertEqual(tok.encode("lowz", maxLength: nil).ids, [0, 11, 3, 2])
    }

    func testAddedTokensAndPrefixSpace() throws {
        let tok = try tokenizer()
        // <mask> has lstrip: it swallows the space before it.
        XCTAssertEqual(tok.encode("low <mask>", maxLength: nil).ids, [0, 11, 16, 2])
        XCTAssertEqual(tok.special, SpecialTokens(pad: 1, unk: 3, cls: 0, sep: 2, mask: 16))
        let prefixed = try tokenizer(addPrefixSpace: true, mergesAsPairs: true)
        // " low" → Ġ l o w: (l,o) 0 → Ġ lo w → (lo,w) 1 → Ġ low; "Ġlo" (rank 4) never gets the chance.
        XCTAssertEqual(prefixed.tokenize("low"), ["Ġ", "low"])
        XCTAssertEqual(prefixed.encode("low low low", maxLength: 4).ids, [0, 9, 11, 2])
    }

    func testLoaderPicksBPEFromTokenizerJSON() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uniguard-bpe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.json().write(to: dir.appendingPathComponent("tokenizer.json"))
        let tok = try TokenizerLoader.load(directory: dir)
        XCTAssertTrue(tok is SubwordTokenizer)
        XCTAssertEqual(tok.vocabSize, 27)
        XCTAssertEqual(tok.batch(["low", "low lower"], maxLength: 8).ids, [0, 11, 2, 1, 1, 1, 0, 11, 9, 11, 12, 2])  // padded with <pad> = 1
    }

    func testBadMergeNamesTheEntry() throws {
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: try Self.json()) as? [String: Any])
        var model = try XCTUnwrap(object["model"] as? [String: Any])
        model["merges"] = ["l o", "q z"]
        object["model"] = model
        XCTAssertThrowsError(try SubwordTokenizer(tokenizerJSONData: try JSONSerialization.data(withJSONObject: object))) {
            XCTAssertTrue("\($0)".contains("model.merges[1]"), "\($0)")
        }
    }
}

/// Unigram (SentencePiece) on a hand-made XLM-R-style tokenizer.json with a hand-built
/// precompiled charsmap; expected segmentations worked out by hand from the piece scores.
final class UnigramTokenizerTests: XCTestCase {
    static let pieces: [(String, Double)] = [
        ("<s>", 0), ("<pad>", 0), ("</s>", 0), ("<unk>", 0), ("▁", -2), ("▁a", -1), ("b", -2.5),
        ("ab", -2), ("▁ab", -4.5), ("a", -3), ("c", -5),
    ]

    /// A Darts double array for `rules` (UTF-8 key → replacement) in SentencePiece's charsmap layout.
    /// Each trie node gets its own 256-unit block, so a child's slot is simply block + byte.
    static func charsmap(_ rules: [(String, String)]) -> [UInt8] {
        var units = [UInt32](repeating: 0, count: 256)
        var blob: [UInt8] = []
        func newBlock() -> Int { units += [UInt32](repeating: 0, count: 256); return units.count - 256 }
        let rootBlock = newBlock()
        units[0] = UInt32(rootBlock) << 10
        var blockOfPosition: [Int: Int] = [0: rootBlock]
        for (key, replacement) in rules {
            var position = 0
            for byte in key.utf8 {
                let parentBlock = blockOfPosition[position]!
                let child = parentBlock + Int(byte)
                if blockOfPosition[child] == nil {
                    let block = newBlock()
                    blockOfPosition[child] = block
                    units[child] = UInt32(byte) | UInt32(child ^ block) << 10
                }
                position = child
            }
            units[position] |= 1 << 8  // has a leaf, stored at the node's block + 0
            units[blockOfPosition[position]!] = 1 << 31 | UInt32(blob.count)
            blob += Array(replacement.utf8) + [0]
        }
        var bytes: [UInt8] = []
        for v in [UInt32(units.count * 4)] + units { bytes += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        return bytes + blob
    }

    static func json(byteFallback: Bool = false, extra: [(String, Double)] = []) throws -> Data {
        let map = Data(charsmap([("ａ", "a"), ("Ｂ", "b")])).base64EncodedString()
        let object: [String: Any] = [
            "added_tokens": [
                ["id": 0, "content": "<s>", "special": true, "normalized": false],
                ["id": 2, "content": "</s>", "special": true, "normalized": false],
                ["id": 3, "content": "<unk>", "special": true, "normalized": false],
            ],
            "normalizer": ["type": "Sequence", "normalizers": [
                ["type": "Precompiled", "precompiled_charsmap": map],
                ["type": "Replace", "pattern": ["Regex": " {2,}"], "content": " "],
            ]],
            "pre_tokenizer": ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true],
            "post_processor": ["type": "TemplateProcessing",
                               "single": [["SpecialToken": ["id": "<s>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]],
                                          ["SpecialToken": ["id": "</s>", "type_id": 0]]],
                               "special_tokens": ["<s>": ["id": "<s>", "ids": [0], "tokens": ["<s>"]],
                                                  "</s>": ["id": "</s>", "ids": [2], "tokens": ["</s>"]]]],
            "model": ["type": "Unigram", "unk_id": 3, "byte_fallback": byteFallback,
                      "vocab": (pieces + extra).map { [$0.0, $0.1] as [Any] }],
        ]
        return try JSONSerialization.data(withJSONObject: object)
    }

    func tokenizer(byteFallback: Bool = false, extra: [(String, Double)] = []) throws -> SubwordTokenizer {
        try SubwordTokenizer(tokenizerJSONData: try Self.json(byteFallback: byteFallback, extra: extra))
    }

    func testViterbiPicksBestSegmentation() throws {
        let tok = try tokenizer()
        // "▁ab": ▁a+b = -1-2.5 = -3.5 beats ▁+ab = -4, ▁ab = -4.5, ▁+a+b = -7.5.
        XCTAssertEqual(tok.tokenize("ab"), ["▁a", "b"])
        XCTAssertEqual(tok.encode("ab", maxLength: nil).ids, [0, 5, 6, 2])
        // Metaspace splits before each ▁: "▁ab" and "▁c" (▁+c, there is no "▁c").
        XCTAssertEqual(tok.tokenize("ab c"), ["▁a", "b", "▁", "c"])
    }

    func testUnknownCharactersFuseIntoOneUnk() throws {
        let tok = try tokenizer()
        XCTAssertEqual(tok.encode("abx", maxLength: nil).ids, [0, 5, 6, 3, 2])
        XCTAssertEqual(tok.encode("abxy", maxLength: nil).ids, [0, 5, 6, 3, 2])
        let fallback = try tokenizer(byteFallback: true, extra: [("<0x78>", -6), ("<0x79>", -6)])
        XCTAssertEqual(fallback.tokenize("abxy"), ["▁a", "b", "<0x78>", "<0x79>"])
    }

    func testPrecompiledCharsmapAndReplace() throws {
        let tok = try tokenizer()
        // Fullwidth ａ and Ｂ map to a, b; runs of spaces collapse to one before Metaspace.
        XCTAssertEqual(tok.tokenize("ａＢ"), ["▁a", "b"])
        XCTAssertEqual(tok.encode("a   b", maxLength: nil).ids, [0, 5, 4, 6, 2])
        // HF's grapheme rule: "ａ" + U+0301 is one 5-byte grapheme whose prefix matches, so the whole
        // grapheme (accent included) becomes "a".
        XCTAssertEqual(tok.tokenize("ａ\u{301}b"), ["▁a", "b"])
        let map = try PrecompiledCharsMap(Self.charsmap([("ａ", "a")]))
        XCTAssertEqual(map.normalize(Array("xａy".unicodeScalars)), Array("xay".unicodeScalars))
        XCTAssertThrowsError(try PrecompiledCharsMap([1, 0]))
    }

    func testSpecialTokensAndTruncation() throws {
        let tok = try tokenizer()
        XCTAssertEqual(tok.special, SpecialTokens(pad: 1, unk: 3, cls: 0, sep: 2, mask: 3))
        XCTAssertEqual(tok.encode("ab</s>ab", maxLength: nil).ids, [0, 5, 6, 2, 5, 6, 2])
        XCTAssertEqual(tok.encode("ab ab ab", maxLength: 5).ids, [0, 5, 6, 5, 2])
    }
}
