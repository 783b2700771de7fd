import Foundation
import GuardData
import Runtime
import XCTest

/// The on-disk corpus index the coordinator serves to training workers: same records as CorpusIndex, ranges exact.
final class CorpusRangeIndexTests: XCTestCase {
    private func line(_ text: String, _ label: String = "safe", policy: String = "p") -> String {
        "{\"text\":\"\(text)\",\"label\":\"\(label)\",\"policy\":\"\(policy)\"}"
    }

    func testRangesMatchTheRecordsOfCorpusIndex() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rangeindex-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Blank lines, CRLF, a last line without newline, multibyte text; a tiny buffer forces lines across reads.
        let text = [line("héllo wörld"), "", "  ", line("two", "unsafe") + "\r", line("three", policy: "q")].joined(separator: "\n")
        let corpus = dir.appendingPathComponent("c.jsonl").path, index = dir.appendingPathComponent("c.idx").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: corpus))
        let summary = try CorpusRangeIndex.build(corpus: corpus, index: index, bufferBytes: 7)
        let reference = try CorpusIndex(path: corpus)
        XCTAssertEqual(summary.records, 3)
        XCTAssertEqual(summary.corpusSHA256, reference.sha256)
        XCTAssertEqual(summary.corpusBytes, UInt64(text.utf8.count))
        XCTAssertEqual(summary.indexSHA256, try SHA256.hexDigest(ofFile: index))
        XCTAssertEqual(summary.counts["p"]?[.unsafe], 1)
        XCTAssertEqual(summary.counts["q"]?[.safe], 1)
        let opened = try CorpusRangeIndex(path: index)
        XCTAssertEqual(opened.count, 3)
        let bytes = Array(text.utf8)
        for i in 0..<3 {
            let r = opened.range(i)
            let decoded = try CorpusCodec.decode(ArraySlice(bytes[Int(r.lowerBound)..<Int(r.upperBound)]), path: corpus, line: i + 1)
            XCTAssertEqual(decoded, try reference.record(i))
        }
    }

    func testABadLineIsNamedAndNoIndexIsLeft() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rangeindex-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("c.jsonl").path, index = dir.appendingPathComponent("c.idx").path
        try Data([line("ok"), line("bad", "maybe")].joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: corpus))
        XCTAssertThrowsError(try CorpusRangeIndex.build(corpus: corpus, index: index)) { error in
            XCTAssertTrue("\(error)".contains("c.jsonl:2"), "\(error)")
            XCTAssertTrue("\(error)".contains("label"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["c.jsonl"])
        // A truncated index is refused when opened.
        try Data(count: 17).write(to: URL(fileURLWithPath: index))
        XCTAssertThrowsError(try CorpusRangeIndex(path: index))
    }
}
