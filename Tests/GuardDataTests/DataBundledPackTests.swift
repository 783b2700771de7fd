import Foundation
@testable import GuardData
import XCTest

/// The bundled `policies/` pack loads strictly and meets the authoring rules in policies/README.md.
final class DataBundledPackTests: XCTestCase {
    static var policiesDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("policies").path
    }

    func testBundledPackHasTheEightPolicies() throws {
        let pack = try PolicyPack.load(directory: Self.policiesDirectory)
        XCTAssertEqual(pack.ids, ["financial_advice", "legal_advice", "medical_advice", "pii", "prompt_injection", "safety", "tax_advice", "toxicity"])
    }

    func testAuthoringRules() throws {
        let pack = try PolicyPack.load(directory: Self.policiesDirectory)
        var everyExample: Set<String> = []
        for policy in pack.policies {
            XCTAssertTrue((4...8).contains(policy.allowed.count), "\(policy.id) allowed")
            XCTAssertTrue((4...8).contains(policy.disallowed.count), "\(policy.id) disallowed")
            XCTAssertTrue((15...30).contains(policy.examples.safe.count), "\(policy.id) safe examples")
            XCTAssertTrue((15...30).contains(policy.examples.unsafe.count), "\(policy.id) unsafe examples")
            XCTAssertGreaterThan(policy.description.count, 80, "\(policy.id) description")
            XCTAssertLessThan(policy.instructionText.count, 650, "\(policy.id) instruction text stays compact (it precedes every input)")
            for example in policy.examples.safe + policy.examples.unsafe {
                XCTAssertTrue(everyExample.insert(PromptText.normalized(example)).inserted, "\(policy.id): duplicate example \(example)")
            }
            // Varied length: at least one short and one long prompt per class.
            for label in SafetyLabel.allCases {
                let lengths = policy.examples[label].map(\.count)
                XCTAssertLessThan(lengths.min() ?? 0, 50, "\(policy.id) \(label) has a short example")
                XCTAssertGreaterThan(lengths.max() ?? 0, 90, "\(policy.id) \(label) has a long example")
            }
        }
    }

    func testLocateBundledFindsTheCheckout() throws {
        let previous = FileManager.default.currentDirectoryPath
        let root = (Self.policiesDirectory as NSString).deletingLastPathComponent
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(root))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        XCTAssertNotNil(PolicyPack.locateBundled())
    }
}
