import Foundation
import GuardData
import TestHelpers
import Tokenizers
import XCTest

/// The instruction format separates its segments with the model's own separator token, so RoBERTa / XLM-R
/// see one `</s>` id there rather than a literal "[SEP]" spelled out in byte-level BPE pieces.
final class RobertaSeparatorTests: XCTestCase {
    func testRobertaFormatUsesItsSeparatorToken() throws {
        let tokenizer = try TokenizerLoader.load(directory: TestSupport.fixture("tiny_roberta"))
        XCTAssertEqual(InstructionFormat.separator(of: tokenizer), "</s>")
        let format = InstructionFormat(tokenizer: tokenizer, includeRationale: true)
        let text = format.render(policyText: "No tax advice.", prompt: "What can I deduct?", rationale: "asks for advice")
        XCTAssertEqual(text, "Instruct: No tax advice. </s> Query: What can I deduct? </s> asks for advice")
        // Two separators inside plus the template's closing one, each the single sep id.
        let ids = tokenizer.encode(text, maxLength: nil).ids
        XCTAssertEqual(ids.filter { $0 == tokenizer.special.sep }.count, 3, "ids: \(ids)")
        // The old literal is not a token to RoBERTa: only the closing separator would remain.
        let literal = InstructionFormat(separator: "[SEP]", includeRationale: true)
            .render(policyText: "No tax advice.", prompt: "What can I deduct?", rationale: "asks for advice")
        XCTAssertEqual(tokenizer.encode(literal, maxLength: nil).ids.filter { $0 == tokenizer.special.sep }.count, 1)
    }

    func testBertFormatKeepsSEP() throws {
        let tokenizer = try TokenizerLoader.load(directory: TestSupport.fixture("minilm"))
        XCTAssertEqual(InstructionFormat.separator(of: tokenizer), "[SEP]")
        let text = InstructionFormat(tokenizer: tokenizer).render(policyText: "P", prompt: "q")
        XCTAssertEqual(text, InstructionFormat.standard.render(policyText: "P", prompt: "q"))
        XCTAssertEqual(tokenizer.encode(text, maxLength: nil).ids.filter { $0 == tokenizer.special.sep }.count, 2)
    }
}
