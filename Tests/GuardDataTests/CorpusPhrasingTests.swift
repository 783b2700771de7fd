@testable import GuardData
import XCTest

/// `PolicyPhrasings`: phrasing 0 is the inference instruction, the others are distinct, no longer, and
/// the choice per record is a deterministic function of prompt, policy and seed.
final class CorpusPhrasingTests: XCTestCase {
    func testPhrasingZeroIsTheInstructionAndTheOthersAreDistinctAndNoLonger() throws {
        let pack = try CorpusTestSupport.pack()
        for policy in pack.policies {
            let phrasings = PolicyPhrasings(policy)
            XCTAssertGreaterThanOrEqual(phrasings.texts.count, 4)
            XCTAssertEqual(phrasings.texts.count, PolicyPhrasings.count)
            XCTAssertEqual(phrasings[0], policy.instructionText)
            XCTAssertEqual(Set(phrasings.texts).count, phrasings.texts.count, "\(policy.id): phrasings repeat")
            for (i, text) in phrasings.texts.enumerated() {
                XCTAssertLessThanOrEqual(text.count, policy.instructionText.count, "\(policy.id) phrasing \(i) is longer than the instruction")
                XCTAssertGreaterThan(text.count, policy.instructionText.count / 2, "\(policy.id) phrasing \(i) says too little")
                XCTAssertTrue(text.contains(Policy.squash(policy.name)), "\(policy.id) phrasing \(i) names the policy")
                XCTAssertFalse(text.contains("\n"))
            }
            XCTAssertEqual(PolicyPhrasings(policy), phrasings, "the texts do not depend on anything but the policy")
        }
    }

    func testChoiceIsDeterministicSeededAndSpread() {
        let prompts = (0..<400).map { "prompt number \($0) about something" }
        let a = prompts.map { PolicyPhrasings.index(prompt: $0, policy: "pii", seed: 1, available: 5) }
        XCTAssertEqual(a, prompts.map { PolicyPhrasings.index(prompt: $0, policy: "pii", seed: 1, available: 5) })
        XCTAssertNotEqual(a, prompts.map { PolicyPhrasings.index(prompt: $0, policy: "pii", seed: 2, available: 5) })
        XCTAssertNotEqual(a, prompts.map { PolicyPhrasings.index(prompt: $0, policy: "toxicity", seed: 1, available: 5) })
        let counts = Dictionary(grouping: a, by: { $0 }).mapValues(\.count)
        XCTAssertEqual(Set(counts.keys), Set(0..<5))
        XCTAssertTrue(counts.values.allSatisfy { $0 > 40 }, "roughly uniform: \(counts)")
        XCTAssertTrue(prompts.allSatisfy { PolicyPhrasings.index(prompt: $0, policy: "pii", seed: 1, available: 2) < 2 })
    }
}
