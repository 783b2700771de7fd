import Foundation
@testable import GuardData
@testable import Runtime
import XCTest

/// Template expander: determinism, label balance, cross-policy rules, provenance.
final class DataExpanderTests: XCTestCase {
    var pack: PolicyPack!

    override func setUpWithError() throws {
        pack = try PolicyPack.load(directory: DataBundledPackTests.policiesDirectory)
    }

    func testSameSeedSameOutputDifferentSeedDifferentOutput() {
        let a = TemplateExpander(pack: pack, seed: 42).expand(count: 60).samples
        let b = TemplateExpander(pack: pack, seed: 42).expand(count: 60).samples
        let c = TemplateExpander(pack: pack, seed: 43).expand(count: 60).samples
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }

    func testPinnedOutputSoToolchainChangesAreNoticed() {
        // SeededRandom and the expander avoid standard-library randomness, so seed 1 gives these exact prompts on
        // every toolchain. A change to the bundled pack or the expander changes them too: update the pins then.
        let prompts = TemplateExpander(pack: pack, seed: 1).expand(count: 5).samples.map(\.prompt)
        XCTAssertEqual(prompts.count, 8 * 2 * 5)
        XCTAssertEqual(Array(prompts.prefix(2)), [
            "One more thing: my pension is in a target date fund, should i move it all into tesla",
            "Not personal retirement or portfolio plans, just curious. I'm retiring next year with 1.2 million. How much should I withdraw each year and what should I invest it in?",
        ])
        XCTAssertEqual(SHA256.hex(SHA256.hash(prompts.joined(separator: "\n"))), "567adecd18e34d54a037e35f83296426d77f49dc43df5aa4e92737815e32f96d")
    }

    func testBalancedLabelsAndUniqueTexts() {
        let output = TemplateExpander(pack: pack, seed: 7).expand(count: 300)
        var counts: [String: Int] = [:]
        for sample in output.samples { counts["\(sample.policy)/\(sample.label.rawValue)", default: 0] += 1 }
        XCTAssertEqual(counts.count, 16)
        XCTAssertTrue(counts.values.allSatisfy { $0 == 300 }, "\(counts)")
        XCTAssertEqual(output.duplicates, 0)
        for policy in pack.ids {
            let texts = output.samples.filter { $0.policy == policy }.map { PromptText.normalized($0.prompt) }
            XCTAssertEqual(Set(texts).count, texts.count, "\(policy): no text is both safe and unsafe or repeated")
        }
    }

    func testCrossPolicyNegativesFollowTheExceptionList() {
        let output = TemplateExpander(pack: pack, seed: 3).expand(count: 400)
        var crossPairs: Set<String> = []
        for sample in output.samples {
            let parts = sample.source.split(separator: "#")[0].split(separator: ":")
            XCTAssertEqual(parts.first, "expand")
            XCTAssertTrue(sample.group?.hasPrefix("seed=") ?? false)
            if parts[1] == "own" { XCTAssertEqual(String(parts[2]), sample.policy) }
            if sample.label == .unsafe { XCTAssertEqual(parts[1], "own") }
            if parts[1] == "cross" {
                XCTAssertEqual(sample.label, .safe)
                crossPairs.insert("\(parts[2])->\(sample.policy)")
            }
        }
        XCTAssertFalse(crossPairs.contains { $0.hasPrefix("prompt_injection->") })
        for forbidden in ["safety->toxicity", "toxicity->safety", "tax_advice->financial_advice", "legal_advice->tax_advice",
                          "medical_advice->safety", "pii->toxicity", "safety->financial_advice", "tax_advice->safety"] {
            XCTAssertFalse(crossPairs.contains(forbidden), forbidden)
        }
        XCTAssertTrue(crossPairs.contains("financial_advice->medical_advice"))
        XCTAssertTrue(crossPairs.contains("safety->prompt_injection"))
        XCTAssertTrue(crossPairs.contains("financial_advice->safety"), "the one-way exception lets investing questions be safety negatives")
    }

    func testUnsafeTextsAreTransformedExamples() {
        let output = TemplateExpander(pack: pack, seed: 9).expand(count: 200)
        let tax = pack["tax_advice"]!
        let unsafe = output.samples.filter { $0.policy == "tax_advice" && $0.label == .unsafe }
        // Every example is used (round robin), and most samples are reframed rather than verbatim.
        let groups = Set(unsafe.compactMap(\.group))
        XCTAssertEqual(groups.count, tax.examples.unsafe.count)
        let verbatim = unsafe.filter { tax.examples.unsafe.contains($0.prompt) }.count
        XCTAssertLessThan(verbatim, unsafe.count / 2)
    }

    func testCrossPolicyRuleFunction() {
        XCTAssertTrue(CrossPolicyRules.unsafeExample(of: "financial_advice", isSafeFor: "pii"))
        XCTAssertFalse(CrossPolicyRules.unsafeExample(of: "pii", isSafeFor: "toxicity"))
        XCTAssertFalse(CrossPolicyRules.unsafeExample(of: "prompt_injection", isSafeFor: "tax_advice"))
        XCTAssertFalse(CrossPolicyRules.unsafeExample(of: "safety", isSafeFor: "safety"))
        XCTAssertFalse(CrossPolicyRules.unsafeExample(of: "safety", isSafeFor: "financial_advice"))
        XCTAssertTrue(CrossPolicyRules.unsafeExample(of: "financial_advice", isSafeFor: "safety"))
    }

    func testHelpers() {
        XCTAssertEqual(TemplateExpander.lowerFirst("What is it"), "what is it")
        XCTAssertEqual(TemplateExpander.lowerFirst("I want"), "I want")
        XCTAssertEqual(TemplateExpander.lowerFirst("ADHD meds"), "ADHD meds")
        XCTAssertEqual(TemplateExpander.topic("Explaining tax concepts (brackets, credits)."), "explaining tax concepts")
        var rng = SeededRandom(seed: 5)
        var items = Array(0..<10)
        rng.shuffle(&items)
        XCTAssertEqual(items.sorted(), Array(0..<10))
        for _ in 0..<100 { XCTAssertTrue((0..<3).contains(rng.below(3))) }
    }
}
