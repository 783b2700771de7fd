import Foundation
import GuardData
@testable import Synthesis
import XCTest

/// Reading model replies: JSON found in prose, every way a reply can be unusable named, requests built
/// deterministically from the batch seed.
final class ReplyParsingTests: XCTestCase {
    func testGeneratedPromptsAreFoundInPlainJSONFencesAndProse() throws {
        let json = #"{"prompts": [{"prompt": " How do I file? ", "rationale": "asks for filing help"}, {"prompt": "b", "rationale": "r"}]}"#
        for content in [json, "Sure!\n```json\n\(json)\n```\nAnything else?", "Here you go: \(json) Enjoy."] {
            let prompts = try GeneratedPrompt.parse(content, requested: 5)
            XCTAssertEqual(prompts.map(\.prompt), ["How do I file?", "b"], content)
        }
        XCTAssertEqual(try GeneratedPrompt.parse(json, requested: 1).count, 1, "extra items are cut at the count asked for")
    }

    func testUnusableGenerationRepliesSayWhatIsWrong() {
        let cases: [(String, String)] = [
            ("I cannot help with that.", "no JSON object"),
            (#"{"answer": "Sure, here are ideas"}"#, "ignored the schema; keys: answer"),
            (#"{"prompts": []}"#, "is empty"),
            (#"{"prompts": ["just a string"]}"#, "prompts[0] is not an object"),
            (#"{"prompts": [{"prompt": "  ", "rationale": "r"}]}"#, "\"prompt\" is empty"),
            (#"{"prompts": [{"prompt": "p"}]}"#, "\"rationale\" is missing"),
            (#"{"prompts": [{"prompt": "p", "rationale": "r"}, {"prom"#, "no JSON object"),
            ("{\"prompts\": [{\"prompt\": \"\(String(repeating: "x", count: 7000))\", \"rationale\": \"r\"}]}", "7000 characters"),
        ]
        for (content, expected) in cases {
            XCTAssertThrowsError(try GeneratedPrompt.parse(content, requested: 3)) { error in
                XCTAssertTrue(error is ReplyProblem && "\(error)".contains(expected), "\(content.prefix(60)): \(error)")
            }
        }
    }

    func testJudgementsNeedExactlyOneValidVerdictPerID() throws {
        let good = #"{"judgements": [{"id": 1, "label": "Unsafe", "reason": "x"}, {"id": 0, "label": "safe", "reason": "y"}]}"#
        XCTAssertEqual(try Judgement.parse(good, count: 2).map(\.label), [.safe, .unsafe], "by id, label case-insensitive")
        let cases: [(String, String)] = [
            (#"{"judgements": [{"id": 0, "label": "safe", "reason": "y"}]}"#, "no judgement for id 1"),
            (#"{"judgements": [{"id": 0, "label": "safe", "reason": "y"}, {"id": 0, "label": "safe", "reason": "y"}]}"#, "judged twice"),
            (#"{"judgements": [{"id": 2, "label": "safe", "reason": "y"}]}"#, "integer in 0..<2"),
            (#"{"judgements": [{"id": 0.5, "label": "safe", "reason": "y"}]}"#, "integer in 0..<2"),
            (#"{"judgements": [{"id": 0, "label": "maybe", "reason": "y"}, {"id": 1, "label": "safe", "reason": "y"}]}"#, "safe or unsafe"),
            (#"{"verdicts": []}"#, "ignored the schema"),
        ]
        for (content, expected) in cases {
            XCTAssertThrowsError(try Judgement.parse(content, count: 2)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(content): \(error)")
            }
        }
    }

    func testRequestsFollowTheBatchSeedAndCarryTheSchemaPerLevel() throws {
        let policy = try SynthesisTestSupport.policy("tax_advice")
        let a = SynthesisBatch(policy: "tax_advice", label: .unsafe, sequence: 3, count: 8, runSeed: 7)
        let b = SynthesisBatch(policy: "tax_advice", label: .unsafe, sequence: 3, count: 8, runSeed: 7)
        let c = SynthesisBatch(policy: "tax_advice", label: .unsafe, sequence: 4, count: 8, runSeed: 7)
        XCTAssertEqual(a.seed, b.seed)
        XCTAssertNotEqual(a.seed, c.seed)
        let messages = GenerationPrompt.messages(policy: policy, label: .unsafe, count: 8, sequence: 3, seed: a.seed)
        XCTAssertEqual(messages, GenerationPrompt.messages(policy: policy, label: .unsafe, count: 8, sequence: 3, seed: b.seed))
        let text = messages[1].content
        XCTAssertTrue(text.contains("Focus behaviour: \(policy.disallowed[3 % policy.disallowed.count])"), "batches walk the disallowed list")
        XCTAssertTrue(text.contains("Wrap some of them in:"), "jailbreak wrappers for unsafe prompts")
        XCTAssertTrue(GenerationPrompt.messages(policy: policy, label: .safe, count: 8, sequence: 0, seed: 1)[1].content.contains("benign look-alikes"))
        let request = ChatRequest(model: "m", messages: messages, temperature: 0.9, seed: 5, maxTokens: nil, schema: ReplySchemas.generatedPrompts)
        func format(_ level: ResponseFormatLevel) throws -> [String: Any]? {
            let body = try JSONSerialization.jsonObject(with: try request.body(level: level)) as! [String: Any]
            XCTAssertEqual(body["model"] as? String, "m")
            XCTAssertEqual(body["seed"] as? Int, 5)
            return body["response_format"] as? [String: Any]
        }
        let schema = try format(.jsonSchema)
        XCTAssertEqual(schema?["type"] as? String, "json_schema")
        XCTAssertEqual((schema?["json_schema"] as? [String: Any])?["name"] as? String, "generated_prompts")
        XCTAssertEqual(try format(.jsonObject)?["type"] as? String, "json_object")
        XCTAssertNil(try format(.text))
        XCTAssertEqual(EndpointSettings(endpoint: "http://h:1/v1//").completionsURL, "http://h:1/v1/chat/completions")
    }
}
