import Foundation
@testable import GuardData
import XCTest

/// Samples JSONL: round trip, strict errors naming file:line:field, skip-invalid counting, streaming edge cases.
final class DataSampleTests: XCTestCase {
    func error(reading text: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let dir = try DataTempDirectory()
        let path = try dir.write("s.jsonl", text)
        do {
            _ = try SampleReader.readAll(path: path)
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch {
            return "\(error)".replacingOccurrences(of: path, with: "FILE")
        }
    }

    func testRoundTripKeepsEveryFieldAndTrickyText() throws {
        let dir = try DataTempDirectory()
        let samples = [
            Sample(policy: "safety", prompt: "Line one\nline \"two\"\t\\ é 😀 \u{01}", rationale: "why", label: .unsafe, source: "test"),
            Sample(policy: "pii", prompt: "plain", label: .safe, source: "expand:own:pii#seed=abcd"),
        ]
        let writer = try SampleWriter(path: dir.file("out/s.jsonl"))
        try writer.write(contentsOf: samples)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("out/s.jsonl")), "file appears only on close")
        try writer.close()
        XCTAssertEqual(try SampleReader.readAll(path: dir.file("out/s.jsonl")), samples)
        let lines = try dir.read("out/s.jsonl").split(separator: "\n")
        guard lines.count == 2 else { return XCTFail("expected 2 lines, got \(lines.count)") }
        XCTAssertEqual(lines[1], #"{"policy":"pii","prompt":"plain","label":"safe","source":"expand:own:pii#seed=abcd"}"#)
        XCTAssertEqual(samples[1].group, "seed=abcd")
        XCTAssertNil(samples[0].group)
        let again = try SampleWriter(path: dir.file("out/s.jsonl"))
        try again.write(samples[1])
        try again.close()
        XCTAssertEqual(try SampleReader.readAll(path: dir.file("out/s.jsonl")), [samples[1]], "an existing file is replaced")
    }

    func testErrorsNameFileLineAndField() throws {
        let good = #"{"policy":"safety","prompt":"hi","label":"safe","source":"t"}"#
        XCTAssertEqual(try error(reading: good + "\n" + #"{"policy":"safety","prompt":"hi","label":"maybe","source":"t"}"#),
                       #"FILE:2: field 'label': expected "safe" or "unsafe", got "maybe""#)
        XCTAssertEqual(try error(reading: "\n\n" + #"{"policy":"safety","label":"safe","source":"t"}"#),
                       #"FILE:3: field 'prompt': missing; every sample needs "prompt""#)
        XCTAssertEqual(try error(reading: #"{"policy":"safety","prompt":42,"label":"safe","source":"t"}"#),
                       "FILE:1: field 'prompt': expected a string, got a number (42)")
        XCTAssertEqual(try error(reading: #"{"policy":"safety","prompt":"x","label":true,"source":"t"}"#),
                       "FILE:1: field 'label': expected a string, got a boolean (true)")
        XCTAssertEqual(try error(reading: #"{"policy":"safety","prompt":"x","label":"safe","source":"t","lable":"safe"}"#),
                       "FILE:1: field 'lable': unknown field; a sample has only policy, prompt, rationale, label, source")
        XCTAssertEqual(try error(reading: #"{"policy":"safety","prompt":"x","label":"safe","source":"t","rationale":[1]}"#),
                       "FILE:1: field 'rationale': expected a string or null, got an array")
        XCTAssertEqual(try error(reading: #"{"policy":" ","prompt":"x","label":"safe","source":"t"}"#),
                       "FILE:1: field 'policy': is empty")
        XCTAssertEqual(try error(reading: "[1,2]"), "FILE:1: expected a JSON object, got an array")
        XCTAssertEqual(try error(reading: #""just a string""#), "FILE:1: expected a JSON object, got a string")
        XCTAssertTrue(try error(reading: good + "\n{broken").hasPrefix("FILE:2: not valid JSON"))
        XCTAssertThrowsError(try SampleReader(path: "/nonexistent/s.jsonl")) { XCTAssertEqual("\($0)", "/nonexistent/s.jsonl: no such file") }
    }

    func testNullRationaleIsAbsent() throws {
        let dir = try DataTempDirectory()
        let path = try dir.write("s.jsonl", #"{"policy":"a","prompt":"p","rationale":null,"label":"unsafe","source":"s"}"#)
        XCTAssertNil(try SampleReader.readAll(path: path).first?.rationale)
    }

    func testSkipInvalidCountsAndReports() throws {
        let dir = try DataTempDirectory()
        var text = ""
        for i in 1...30 {
            text += i % 3 == 0 ? #"{"policy":"a","prompt":"p\#(i)","label":"maybe","source":"s"}"# : #"{"policy":"a","prompt":"p\#(i)","label":"safe","source":"s"}"#
            text += "\n"
        }
        let path = try dir.write("s.jsonl", text)
        let reader = try SampleReader(path: path, skipInvalid: true, maxRecordedErrors: 3)
        var count = 0
        try reader.forEachSample { _ in count += 1 }
        XCTAssertEqual(count, 20)
        XCTAssertEqual(reader.skippedCount, 10)
        XCTAssertEqual(reader.skippedErrors.map(\.line), [3, 6, 9])
        XCTAssertTrue(reader.skipReport.hasPrefix("skipped 10 invalid lines in \(path)\n  \(path):3: field 'label'"), reader.skipReport)
        XCTAssertTrue(reader.skipReport.hasSuffix("… and 7 more"))
    }

    func testStreamingHandlesCRLFLongLinesAndNoFinalNewline() throws {
        let dir = try DataTempDirectory()
        let long = String(repeating: "x", count: 5000)
        let text = #"{"policy":"a","prompt":"\#(long)","label":"safe","source":"s"}"# + "\r\n" + "  \r\n" +
            #"{"policy":"a","prompt":"b","label":"unsafe","source":"s"}"#
        let path = try dir.write("s.jsonl", text)
        let reader = try SampleReader(path: path)
        let lines = try LineReader(path: path, chunkSize: 64)
        var lineCount = 0
        while try lines.nextLine() != nil { lineCount += 1 }
        XCTAssertEqual(lineCount, 3)
        var prompts: [String] = []
        try reader.forEachSample { prompts.append($0.prompt) }
        XCTAssertEqual(prompts, [long, "b"])
    }

    func testSequenceIterationStopsAtErrorAndKeepsIt() throws {
        let dir = try DataTempDirectory()
        let path = try dir.write("s.jsonl", #"{"policy":"a","prompt":"b","label":"safe","source":"s"}"# + "\n{}")
        let reader = try SampleReader(path: path)
        XCTAssertEqual(Array(reader).count, 1)
        XCTAssertEqual(reader.error?.line, 2)
        XCTAssertEqual(reader.error?.field, "policy")
    }
}

/// JSON escaping is byte-exact and parses back.
final class DataJSONEscapeTests: XCTestCase {
    func testEscapes() throws {
        XCTAssertEqual(SampleCodec.jsonString("a\"b\\c\n\r\t\u{08}\u{0C}\u{01}\u{1F}é\u{2028}\u{2029}😀/"),
                       #""a\"b\\c\n\r\t\b\f\u0001\u001fé\u2028\u2029😀/""#)
        let text = "x\u{2028}y\"\u{7F}\u{0}"
        let parsed = try JSONSerialization.jsonObject(with: Data(SampleCodec.jsonString(text).utf8), options: [.fragmentsAllowed]) as? String
        XCTAssertEqual(parsed, text)
    }
}
