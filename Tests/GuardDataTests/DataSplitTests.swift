import Foundation
@testable import GuardData
import XCTest

/// Hash splits: deterministic, never overlapping, groups kept together, fractions roughly honoured.
final class DataSplitTests: XCTestCase {
    func makeCorpus(in dir: DataTempDirectory) throws -> String {
        let writer = try SampleWriter(path: dir.file("all.jsonl"))
        for i in 0..<3000 {
            try writer.write(Sample(policy: i % 2 == 0 ? "safety" : "pii", prompt: "prompt number \(i)", label: i % 3 == 0 ? .unsafe : .safe, source: "t"))
        }
        // The same prompt (modulo case and spacing) under several policies and labels.
        for policy in ["safety", "pii", "toxicity"] {
            try writer.write(Sample(policy: policy, prompt: "  Shared   PROMPT ", label: .safe, source: "t"))
        }
        // Variants of one seed example, tied by their #group.
        for i in 0..<40 {
            try writer.write(Sample(policy: "safety", prompt: "variant \(i) of the seed", label: .unsafe, source: "expand:own:safety#seed=00ff"))
        }
        try writer.close()
        return dir.file("all.jsonl")
    }

    func prompts(_ path: String) throws -> [String] { try SampleReader.readAll(path: path).map { PromptText.normalized($0.prompt) } }

    func testSplitIsDeterministicAndDisjoint() throws {
        let dir = try DataTempDirectory()
        let input = try makeCorpus(in: dir)
        let splitter = try DataSplitter(val: 0.1, test: 0.2)
        let report = try splitter.split(file: input, outDirectory: dir.file("a"))
        _ = try splitter.split(file: input, outDirectory: dir.file("b"))
        for name in ["train", "val", "test"] {
            XCTAssertEqual(try dir.read("a/\(name).jsonl"), try dir.read("b/\(name).jsonl"), name)
        }
        let train = Set(try prompts(dir.file("a/train.jsonl")))
        let val = Set(try prompts(dir.file("a/val.jsonl")))
        let test = Set(try prompts(dir.file("a/test.jsonl")))
        XCTAssertTrue(train.isDisjoint(with: val) && train.isDisjoint(with: test) && val.isDisjoint(with: test))
        XCTAssertEqual(report.total(.train) + report.total(.val) + report.total(.test), 3043)
        XCTAssertEqual(Double(report.total(.test)) / 3043, 0.2, accuracy: 0.03)
        XCTAssertEqual(Double(report.total(.val)) / 3043, 0.1, accuracy: 0.03)
        let sets = [train, val, test]
        XCTAssertEqual(sets.filter { $0.contains("shared prompt") }.count, 1, "identical prompts share a split")
        let variantSplits = sets.filter { set in set.contains { $0.hasPrefix("variant ") } }
        XCTAssertEqual(variantSplits.count, 1, "a #group stays in one split")
        XCTAssertTrue(report.table.contains("safety"))
    }

    func testSplitOfAPromptDoesNotDependOnTheRestOfTheFile() throws {
        let splitter = try DataSplitter()
        let dir = try DataTempDirectory()
        let writer = try SampleWriter(path: dir.file("one.jsonl"))
        try writer.write(Sample(policy: "a", prompt: "prompt number 7", label: .safe, source: "t"))
        try writer.close()
        _ = try splitter.split(file: dir.file("one.jsonl"), outDirectory: dir.file("out"))
        let where7 = try DataSplit.allCases.first { try !dir.read("out/\($0.rawValue).jsonl").isEmpty }
        XCTAssertEqual(where7, splitter.split(prompt: "PROMPT   number 7"))
    }

    func testBadFractionsAndSkipInvalid() throws {
        XCTAssertThrowsError(try DataSplitter(val: 0.6, test: 0.5))
        let dir = try DataTempDirectory()
        let path = try dir.write("x.jsonl", #"{"policy":"a","prompt":"b","label":"safe","source":"s"}"# + "\nnot json\n")
        XCTAssertThrowsError(try DataSplitter().split(file: path, outDirectory: dir.file("o"))) { XCTAssertTrue("\($0)".contains(":2: not valid JSON")) }
        let report = try DataSplitter().split(file: path, outDirectory: dir.file("o"), skipInvalid: true)
        XCTAssertEqual(report.skipped, 1)
        XCTAssertEqual(DataSplit.allCases.map { report.total($0) }.reduce(0, +), 1)
    }
}

/// Normalisation: the ASCII fast path agrees with the general Unicode path.
final class DataPromptTextTests: XCTestCase {
    func testNormalisation() {
        XCTAssertEqual(PromptText.normalized("  Hello\t\tWORLD \r\n again "), "hello world again")
        XCTAssertEqual(PromptText.normalized("Ｈｅｌｌｏ  Wörld"), "hello wörld")
        XCTAssertEqual(PromptText.normalized("ABC\u{0B}def"), "abc def")
        XCTAssertEqual(PromptText.normalized(""), "")
        XCTAssertFalse(PromptText.hasContent(" \t\n\u{00A0}"))
        XCTAssertTrue(PromptText.hasContent("  x "))
        for text in ["Mixed Case  text", "tabs\tand\nnewlines", "  lead and trail  ", "x"] {
            let general = text.precomposedStringWithCompatibilityMapping.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
            XCTAssertEqual(PromptText.normalized(text), general, text)
        }
    }
}
