import Foundation
@testable import Tokenizers
import XCTest

/// Byte-level BPE (tiny RoBERTa) and Unigram (tiny XLM-R) tokenizer.json pipelines against the fast tokenizers'
/// output on the same files (`bpe_cases.jsonl`, `unigram_cases.jsonl`): every case, ids and tokens.
final class TokenizerReferenceCaseTests: XCTestCase {
    struct Case: Decodable {
        let text: String
        let input_ids: [Int32]
        let tokens: [String]?
        let max_length: Int?
    }

    static func cases(_ file: String) throws -> [Case] {
        let text = try String(contentsOf: TokenizerTests.fixtures.appendingPathComponent(file), encoding: .utf8)
        return try text.split(separator: "\n").enumerated().map { n, line in
            do { return try JSONDecoder().decode(Case.self, from: Data(line.utf8)) } catch {
                throw TokenizerError.invalid(path: file, reason: "line \(n + 1): \(error)")
            }
        }
    }

    /// Checks every case of `file` with the tokenizer of model directory `model`; returns how many matched.
    func reproduce(_ file: String, model: String) throws -> (passed: Int, total: Int) {
        let tokenizer = try TokenizerLoader.load(directory: TokenizerTests.fixtures.appendingPathComponent(model))
        XCTAssertTrue(tokenizer is SubwordTokenizer, "\(model) should load its tokenizer.json")
        let cases = try Self.cases(file)
        XCTAssertGreaterThanOrEqual(cases.count, 19)
        XCTAssertEqual(cases.last?.max_length, 32, "the last line is the truncation case")
        var passed = 0
        for c in cases {
            let enc = tokenizer.encode(c.text, maxLength: c.max_length)
            XCTAssertEqual(enc.ids, c.input_ids, "\(file) ids: \(c.text.debugDescription)")
            if let tokens = c.tokens { XCTAssertEqual(enc.tokens, tokens, "\(file) tokens: \(c.text.debugDescription)") }
            if let m = c.max_length { XCTAssertLessThanOrEqual(enc.ids.count, m) }
            if enc.ids == c.input_ids && (c.tokens == nil || enc.tokens == c.tokens) { passed += 1 }
        }
        print("\(model): \(passed)/\(cases.count) \(file) cases reproduced")
        return (passed, cases.count)
    }

    func testByteLevelBPEReproducesEveryCase() throws {
        let r = try reproduce("bpe_cases.jsonl", model: "tiny_roberta")
        XCTAssertEqual(r.passed, r.total)
    }

    func testUnigramReproducesEveryCase() throws {
        let r = try reproduce("unigram_cases.jsonl", model: "tiny_xlmr")
        XCTAssertEqual(r.passed, r.total)
    }

    /// HF's `Nmt` (the first step of XLM-R's normalizer): controls dropped, odd spaces and breaks become " ".
    func testNmtNormalizer() {
        let text = Array("a\u{01}b\tc\u{200B}d\u{FEFF}e\u{7F}f\u{2581}g\r\nh".unicodeScalars)
        XCTAssertEqual(String(String.UnicodeScalarView(TextNormalizer.nmt.apply(text))), "ab c d ef g  h")
    }

    func testSpecialTokensOfTheTinyModels() throws {
        for model in ["tiny_roberta", "tiny_xlmr"] {
            let tok = try TokenizerLoader.load(directory: TokenizerTests.fixtures.appendingPathComponent(model))
            XCTAssertEqual(tok.special, SpecialTokens(pad: 1, unk: 3, cls: 0, sep: 2, mask: 4), model)
            XCTAssertEqual(tok.vocabSize, 600, model)
        }
    }
}
