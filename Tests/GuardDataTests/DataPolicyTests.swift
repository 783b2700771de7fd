import Foundation
@testable import GuardData
import XCTest

/// Strict policy YAML loading: a good file, and each kind of bad file with its message checked.
final class DataPolicyTests: XCTestCase {
    static let good = """
    id: tax_advice
    name: Tax advice
    description: >
      Prompts asking for personal tax advice.
    allowed:
      - Explaining tax concepts
    disallowed:
      - Telling the user what to deduct
      - Hiding income.
    examples:
      safe:
        - What is a W-2?
      unsafe:
        - What can I deduct this year?
    """

    func parse(_ yaml: String) throws -> Policy { try PolicyParser.parse(yaml: yaml, path: "p.yaml") }

    func message(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try parse(yaml)
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testGoodPolicy() throws {
        let policy = try parse(Self.good)
        XCTAssertEqual(policy.id, "tax_advice")
        XCTAssertEqual(policy.description, "Prompts asking for personal tax advice.")
        XCTAssertEqual(policy.disallowed.count, 2)
        XCTAssertEqual(policy.examples.safe, ["What is a W-2?"])
        XCTAssertEqual(policy.examples[.unsafe], ["What can I deduct this year?"])
        XCTAssertEqual(policy.sourcePath, "p.yaml")
    }

    func testInstructionTextAndFormat() throws {
        let policy = try parse(Self.good)
        XCTAssertEqual(policy.instructionText,
                       "Tax advice: Prompts asking for personal tax advice. Disallowed: Telling the user what to deduct; Hiding income.")
        XCTAssertEqual(InstructionFormat.standard.render(policy: policy, prompt: "hi", rationale: "ignored"),
                       "Instruct: \(policy.instructionText) [SEP] Query: hi")
        let withRationale = InstructionFormat(separator: "</s>", includeRationale: true)
        XCTAssertEqual(withRationale.render(policyText: "P", prompt: "q", rationale: "because"), "Instruct: P </s> Query: q </s> because")
        XCTAssertEqual(withRationale.render(policyText: "P", prompt: "q", rationale: nil), "Instruct: P </s> Query: q")
    }

    func testMissingFieldNamesFieldAndFix() {
        let text = message(Self.good.replacingOccurrences(of: "name: Tax advice\n", with: ""))
        XCTAssertTrue(text.hasPrefix("p.yaml:1: field 'name' is missing; add it"), text)
        let nested = message(Self.good.replacingOccurrences(of: "  unsafe:\n    - What can I deduct this year?", with: ""))
        XCTAssertTrue(nested.contains("field 'examples.unsafe' is missing"), nested)
    }

    func testUnknownFieldSuggestsTheRightName() {
        let text = message(Self.good.replacingOccurrences(of: "allowed:", with: "alowed:"))
        XCTAssertEqual(text, "p.yaml:5: unknown field 'alowed'; did you mean 'allowed'? allowed fields here: id, name, description, allowed, disallowed, examples")
        let nested = message(Self.good.replacingOccurrences(of: "  safe:", with: "  sfe:"))
        XCTAssertTrue(nested.hasPrefix("p.yaml:11: unknown field 'examples.sfe'; did you mean 'safe'?"), nested)
    }

    func testWrongTypes() {
        let list = message(Self.good.replacingOccurrences(of: "allowed:\n  - Explaining tax concepts", with: "allowed: Explaining tax concepts"))
        XCTAssertTrue(list.hasPrefix("p.yaml:5: field 'allowed': expected a list of strings (lines starting with '- '), got a scalar"), list)
        let scalar = message(Self.good.replacingOccurrences(of: "name: Tax advice", with: "name: [Tax, advice]"))
        XCTAssertEqual(scalar, "p.yaml:2: field 'name': expected a string, got a list")
        let item = message(Self.good.replacingOccurrences(of: "    - What is a W-2?", with: "    - {question: What is a W-2?}"))
        XCTAssertEqual(item, "p.yaml:12: field 'examples.safe[0]': expected a string, got a mapping")
        let null = message(Self.good.replacingOccurrences(of: ">\n  Prompts asking for personal tax advice.", with: ""))
        XCTAssertTrue(null.hasPrefix("p.yaml:3: field 'description': expected a string, got nothing (null)"), null)
        let top = message("- just\n- a list\n")
        XCTAssertTrue(top.hasPrefix("p.yaml:1: field '(top level)': expected a mapping"), top)
    }

    func testInvalidValues() {
        let id = message(Self.good.replacingOccurrences(of: "id: tax_advice", with: "id: Tax Advice"))
        XCTAssertTrue(id.hasPrefix("p.yaml:1: field 'id': 'Tax Advice' is not a valid id"), id)
        let empty = message(Self.good.replacingOccurrences(of: "allowed:\n  - Explaining tax concepts", with: "allowed: []"))
        XCTAssertTrue(empty.hasPrefix("p.yaml:5: field 'allowed': the list is empty"), empty)
        let clash = message(Self.good.replacingOccurrences(of: "What can I deduct this year?", with: "what is a  W-2?"))
        XCTAssertTrue(clash.contains("listed as both safe and unsafe"), clash)
        let duplicate = message(Self.good.replacingOccurrences(of: "  - Hiding income.", with: "  - Hiding income.\n  - hiding income."))
        XCTAssertTrue(duplicate.hasPrefix("p.yaml:10: field 'disallowed[2]': duplicate entry"), duplicate)
    }

    func testSyntaxErrorsCarryTheLine() {
        let bad = message(Self.good.replacingOccurrences(of: "name: Tax advice", with: "name: \"Tax advice"))
        XCTAssertTrue(bad.hasPrefix("p.yaml:"), bad)
        XCTAssertTrue(bad.contains("YAML syntax error"), bad)
        let dup = message(Self.good + "\nname: Again\n")
        XCTAssertTrue(dup.contains("duplicated key(s) 'name'"), dup)
        XCTAssertTrue(message("").contains("the file is empty"))
    }

    func testPackRejectsDuplicateIDsAndLoadsOnlyYAML() throws {
        let dir = NSTemporaryDirectory() + "uniguard-pack-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.good.write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        try "# notes".write(toFile: dir + "/README.md", atomically: true, encoding: .utf8)
        let pack = try PolicyPack.load(directory: dir)
        XCTAssertEqual(pack.ids, ["tax_advice"])
        XCTAssertThrowsError(try pack.policy("nope")) { XCTAssertEqual("\($0)", "unknown policy 'nope'; known policies: tax_advice") }
        try Self.good.write(toFile: dir + "/b.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PolicyPack.load(directory: dir)) { error in
            XCTAssertEqual("\(error)", "\(dir)/b.yaml: policy id 'tax_advice' is already used by \(dir)/a.yaml; ids must be unique within a pack (rename one)")
        }
        XCTAssertThrowsError(try PolicyPack.load(directory: dir + "/missing")) { XCTAssertTrue("\($0)".contains("not a directory")) }
    }

    func testUnreadableFile() {
        XCTAssertThrowsError(try PolicyParser.load(path: "/nonexistent/x.yaml")) { error in
            XCTAssertEqual("\(error)", "/nonexistent/x.yaml: cannot read policy file: no such file")
        }
    }
}
