import Foundation
@testable import Tokenizers
import XCTest

/// WordPiece against transformers' BertTokenizer(Fast) output on MiniLM's vocabulary, plus batching,
/// truncation, special tokens written in text, and loader errors.
final class TokenizerTests: XCTestCase {
    struct Case: Decodable {
        let text: String
        let input_ids: [Int32]
        /// Absent on the truncation line, which checks ids only.
        let tokens: [String]?
        let max_length: Int?
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let minilm = fixtures.appendingPathComponent("minilm")

    static func cases() throws -> [Case] {
        let text = try String(contentsOf: fixtures.appendingPathComponent("wordpiece_cases.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Case.self, from: Data($0.utf8)) }
    }

    static func fromVocab() throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabFile: minilm.appendingPathComponent("vocab.txt"))
    }

    static func fromJSON() throws -> WordPieceTokenizer {
        try WordPieceTokenizer(tokenizerJSON: minilm.appendingPathComponent("tokenizer.json"))
    }

    /// Returns how many fixture lines `tokenizer` reproduces exactly, failing on each mismatch.
    func checkFixtures(_ tokenizer: any Tokenizer, _ label: String) throws -> Int {
        let cases = try Self.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 30)
        var passed = 0
        for c in cases {
            let enc = tokenizer.encode(c.text, maxLength: c.max_length)
            XCTAssertEqual(enc.ids, c.input_ids, "\(label) ids: \(c.text.debugDescription)")
            if let tokens = c.tokens { XCTAssertEqual(enc.tokens, tokens, "\(label) tokens: \(c.text.debugDescription)") }
            if enc.ids == c.input_ids && (c.tokens == nil || enc.tokens == c.tokens) { passed += 1 }
        }
        print("\(label): \(passed)/\(cases.count) wordpiece fixture cases reproduced")
        return passed
    }

    func testFixturesFromVocabTxt() throws {
        XCTAssertEqual(try checkFixtures(try Self.fromVocab(), "vocab.txt"), try Self.cases().count)
    }

    func testFixturesFromTokenizerJSON() throws {
        XCTAssertEqual(try checkFixtures(try Self.fromJSON(), "tokenizer.json"), try Self.cases().count)
    }

    func testLoaderPrefersTokenizerJSONAndFallsBackToVocabTxt() throws {
        let fromDir = try TokenizerLoader.load(directory: Self.minilm)
        XCTAssertEqual(fromDir.vocabSize, 30522)
        XCTAssertEqual(fromDir.special, SpecialTokens(pad: 0, unk: 100, cls: 101, sep: 102, mask: 103))
        XCTAssertEqual(try checkFixtures(fromDir, "loader"), try Self.cases().count)

        let dir = try temporaryDirectory()
        try FileManager.default.copyItem(at: Self.minilm.appendingPathComponent("vocab.txt"),
                                         to: dir.appendingPathComponent("vocab.txt"))
        let vocabOnly = try TokenizerLoader.load(directory: dir)
        XCTAssertEqual(vocabOnly.encode("Hello, world!", maxLength: nil).ids, [101, 7592, 1010, 2088, 999, 102])
        // A non-WordPiece tokenizer.json next to vocab.txt is skipped for vocab.txt.
        try #"{"model": {"type": "SomethingElse"}}"#.write(to: dir.appendingPathComponent("tokenizer.json"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try TokenizerLoader.load(directory: dir).encode("Hello", maxLength: nil).ids, [101, 7592, 102])
    }

    func testCasedVocabTxtHonoursTokenizerConfig() throws {
        let dir = try temporaryDirectory()
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nHello\nhello\né\ne\n".write(to: dir.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        try #"{"do_lower_case": false}"#.write(to: dir.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
        let cased = try TokenizerLoader.load(directory: dir)
        XCTAssertEqual(cased.tokenize("Hello hello é"), ["Hello", "hello", "é"])
    }

    func testBatchPadsToLongestRow() throws {
        let tok = try Self.fromVocab()
        let b = tok.batch(["Hello, world!", "hi", ""], maxLength: 128)
        XCTAssertEqual(b.batch, 3)
        XCTAssertEqual(b.seqLen, 6)
        XCTAssertEqual(b.lengths, [6, 3, 2])
        XCTAssertEqual(b.ids, [101, 7592, 1010, 2088, 999, 102,
                               101, 7632, 102, 0, 0, 0,
                               101, 102, 0, 0, 0, 0])
        XCTAssertEqual(b.mask, [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0])
        XCTAssertEqual(b.typeIds, [Int32](repeating: 0, count: 18))

        let short = tok.batch(["Hello, world!", "hi"], maxLength: 4)
        XCTAssertEqual(short.seqLen, 4)
        XCTAssertEqual(short.ids, [101, 7592, 1010, 102, 101, 7632, 102, 0])
    }

    func testTruncationKeepsClsAndSep() throws {
        let tok = try Self.fromJSON()
        let text = "one two three four five six seven"
        XCTAssertEqual(tok.encode(text, maxLength: 5).tokens, ["[CLS]", "one", "two", "three", "[SEP]"])
        XCTAssertEqual(tok.encode(text, maxLength: 2).tokens, ["[CLS]", "[SEP]"])
        XCTAssertEqual(tok.encode(text, maxLength: 100).ids.count, 9)
        XCTAssertEqual(tok.encode(text, maxLength: nil).ids.count, 9)
        // Word pieces are cut individually, as HF does.
        XCTAssertEqual(tok.encode("sourdough", maxLength: 4).tokens, ["[CLS]", "sour", "##dou", "[SEP]"])
        XCTAssertLessThanOrEqual(tok.encode(text, maxLength: 1).ids.count, 1)
    }

    func testSpecialTokensWrittenInTextStayWhole() throws {
        for tok in [try Self.fromVocab(), try Self.fromJSON()] {
            let enc = tok.encode("Instruct: classify the prompt [SEP] Query: hello", maxLength: nil)
            XCTAssertEqual(enc.tokens, ["[CLS]", "ins", "##truct", ":", "classify", "the", "prompt", "[SEP]", "query", ":", "hello", "[SEP]"])
            XCTAssertEqual(enc.ids.filter { $0 == 102 }.count, 2)
            XCTAssertEqual(tok.tokenize("a[SEP]b[MASK][CLS]"), ["a", "[SEP]", "b", "[MASK]", "[CLS]"])
            XCTAssertEqual(tok.encode("[PAD][UNK]", maxLength: nil).ids, [101, 0, 100, 102])
            // Matched case-sensitively in the raw text, like HF's non-normalised added tokens.
            XCTAssertEqual(tok.tokenize("[sep]"), ["[", "sep", "]"])
            XCTAssertEqual(tok.tokenize("[SEP"), ["[", "sep"])
        }
    }

    func testUserAddedTokensAndFlags() throws {
        let vocab: [String: Int32] = ["[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "a": 5, "b": 6, "##b": 7]
        let added = [
            AddedToken(id: 2, content: "[CLS]"), AddedToken(id: 3, content: "[SEP]"),
            AddedToken(id: 8, content: "<policy>", special: false, lstrip: true, rstrip: true, normalized: true),
            AddedToken(id: 9, content: "ab", special: false, singleWord: true, normalized: false),
        ]
        let tok = try WordPieceTokenizer(vocab: vocab, addedTokens: added)
        XCTAssertEqual(tok.vocabSize, 10)
        // Normalised match: "<POLICY>" lower-cases to "<policy>", and its surrounding spaces are absorbed.
        XCTAssertEqual(tok.encode("a  <POLICY> b", maxLength: nil).ids, [2, 5, 8, 6, 3])
        // single_word: "ab" alone is the added token; inside "abb" it is not.
        XCTAssertEqual(tok.tokenize("ab abb"), ["ab", "a", "##b", "##b"])
        XCTAssertEqual(tok.id(of: "<policy>"), 8)
        XCTAssertEqual(tok.token(of: 9), "ab")
        XCTAssertNil(tok.token(of: 10))
    }

    func testWordPieceGreedyAndUnknown() throws {
        let vocab: [String: Int32] = ["[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "un": 3, "unaff": 4, "##aff": 5, "##able": 6, "##a": 7, "##ble": 8]
        let tok = try WordPieceTokenizer(vocab: vocab)
        XCTAssertEqual(tok.tokenize("unaffable"), ["unaff", "##able"])  // longest first, not un + ##aff
        XCTAssertEqual(tok.tokenize("unaffx un"), ["[UNK]", "un"])      // any unmatched rest makes the word [UNK]
        XCTAssertEqual(tok.tokenize(String(repeating: "a", count: 101)), ["[UNK]"])
        XCTAssertEqual(tok.special.pad, 0)   // no [PAD]: falls back to id 0
        XCTAssertEqual(tok.special.mask, 0)  // no [MASK]: falls back to [UNK]
    }

    func testBasicTokenizer() {
        let basic = BasicTokenizer()
        XCTAssertEqual(basic.tokenize("Héllo,  WORLD!"), ["hello", ",", "world", "!"])
        XCTAssertEqual(basic.tokenize("a\u{0}b\u{FFFD}c\u{200B}d\u{7}e"), ["abcde"])
        XCTAssertEqual(basic.tokenize("tab\there\u{00A0}nbsp\u{3000}ideo\u{2028}ls"), ["tab", "here", "nbsp", "ideo", "ls"])
        XCTAssertEqual(basic.tokenize("中文abc字"), ["中", "文", "abc", "字"])
        XCTAssertEqual(basic.tokenize("カタカナ"), ["カタカナ"])     // kana are not CJK ideographs
        XCTAssertEqual(basic.tokenize("x^y`z$"), ["x", "^", "y", "`", "z", "$"])
        XCTAssertEqual(basic.tokenize("«quote» ¿qué?"), ["«", "quote", "»", "¿", "que", "?"])
        XCTAssertEqual(basic.tokenize("İSTANBUL ΣΟΦΟΣ"), ["istanbul", "σοφοσ"])  // per-scalar lower-casing, no final sigma
        XCTAssertEqual(basic.tokenize(""), [])
        let cased = BasicTokenizer(lowercase: false)
        XCTAssertEqual(cased.tokenize("Héllo WORLD"), ["Héllo", "WORLD"])
        let strip = BasicTokenizer(lowercase: false, stripAccents: true)
        XCTAssertEqual(strip.tokenize("Héllo"), ["Hello"])
    }

    func testBadTokenizerJSONGivesClearError() throws {
        func message(_ json: String) throws -> String {
            let dir = try temporaryDirectory()
            try json.write(to: dir.appendingPathComponent("tokenizer.json"), atomically: true, encoding: .utf8)
            do {
                _ = try TokenizerLoader.load(directory: dir)
                XCTFail("loaded a bad tokenizer.json: \(json)")
                return ""
            } catch {
                let text = "\(error)"
                XCTAssertTrue(text.contains("tokenizer.json"), text)
                return text
            }
        }
        XCTAssertTrue(try message("{not json").contains("not valid JSON"))
        XCTAssertTrue(try message("[1, 2]").contains("not a JSON object"))
        XCTAssertTrue(try message(#"{"model": {"type": "WordPiece"}}"#).contains("model.vocab is missing"))
        let badId = #"{"model": {"type": "WordPiece", "vocab": {"[UNK]": "zero"}}, "pre_tokenizer": {"type": "BertPreTokenizer"}}"#
        XCTAssertTrue(try message(badId).contains("model.vocab[\"[UNK]\"]"))
        let noUnk = #"{"model": {"type": "WordPiece", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "BertPreTokenizer"}}"#
        XCTAssertTrue(try message(noUnk).contains("'[UNK]' is not in the vocabulary"))
        let badNorm = #"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "normalizer": {"type": "Precompiled"}, "pre_tokenizer": {"type": "BertPreTokenizer"}}"#
        XCTAssertTrue(try message(badNorm).contains("normalizer type 'Precompiled'"))
        let badAdded = #"{"added_tokens": [{"id": -3, "content": "x"}], "model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "pre_tokenizer": {"type": "BertPreTokenizer"}}"#
        XCTAssertTrue(try message(badAdded).contains("added_tokens[0].id"))

        let empty = try temporaryDirectory()
        XCTAssertThrowsError(try TokenizerLoader.load(directory: empty)) { error in
            XCTAssertTrue("\(error)".contains("no vocab.txt or tokenizer.json"), "\(error)")
        }
    }

    func testVocabFileLineEndings() throws {
        let tokens = try VocabFile.parse(Data("a\r\nb\rc\n\nd".utf8), path: "vocab.txt")
        XCTAssertEqual(tokens, ["a", "b", "c", "", "d"])
        XCTAssertThrowsError(try VocabFile.parse(Data([0x61, 0x0A, 0xFF, 0x0A]), path: "vocab.txt")) { error in
            XCTAssertTrue("\(error)".contains("line 2 is not valid UTF-8"), "\(error)")
        }
    }

    func testLongMixedScriptInputTokenizesAsItsRepeatedParts() throws {
        // Half a megabyte of mixed scripts: the long-input path must agree with tokenizing one copy.
        let tok = try Self.fromVocab()
        let text = try Self.cases().map(\.text).joined(separator: " ")
        let corpus = String(repeating: text + " ", count: 120)
        let once = tok.tokenize(text)
        XCTAssertEqual(tok.tokenize(corpus), Array([[String]](repeating: once, count: 120).joined()))
    }

    private func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uniguard-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }
}
