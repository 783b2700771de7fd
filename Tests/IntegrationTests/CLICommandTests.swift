import Foundation
import XCTest

/// The `uniguard` commands a user chains, as real processes on the tiny BERT: data expand, train (two seeds),
/// eval, classify, merge, merge-search, embed and tokenize, including the JSON-lines `stdin:LINE:` contract.
final class CLICommandTests: XCTestCase {
    var work = ""
    var bin = ""

    override func setUpWithError() throws {
        bin = try ClusterBinaries.require()
        work = NSTemporaryDirectory() + "uniguard-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    /// Runs `uniguard ARGS` with `stdin`; asserts the exit status.
    @discardableResult
    func uniguard(_ args: [String], stdin: String? = nil, expect: Int32 = 0,
                  file: StaticString = #filePath, line: UInt = #line) throws -> (out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin + "/uniguard")
        p.arguments = args
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, expect, "uniguard \(args.joined(separator: " ")):\n\(e)", file: file, line: line)
        return (o, e)
    }

    func json(_ line: Substring) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    /// The tiny BERT with a vocabulary of our words, and a prompt_injection sample file.
    func fixtures() throws -> (base: String, samples: String) {
        let base = work + "/tiny", fm = FileManager.default
        try fm.createDirectory(atPath: base, withIntermediateDirectories: true)
        let src = ClusterBinaries.packageRoot.appendingPathComponent("Tests/Fixtures/tiny_bert").path
        for f in ["config.json", "model.safetensors"] { try fm.copyItem(atPath: "\(src)/\(f)", toPath: "\(base)/\(f)") }
        var vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "bread", "garden", "music", "river", "ignore", "bypass",
                     "leak", "reveal", "the", "please"]
        while vocab.count < 50 { vocab.append("w\(vocab.count)") }
        try vocab.joined(separator: "\n").write(toFile: base + "/vocab.txt", atomically: true, encoding: .utf8)
        var lines: [String] = []
        for i in 0..<16 {
            let safe = ["bread", "garden", "music", "river"], unsafe = ["ignore", "bypass", "leak", "reveal"]
            let s = (0..<3).map { safe[($0 + i) % 4] }.joined(separator: " "), u = (0..<3).map { unsafe[($0 * 3 + i) % 4] }.joined(separator: " ")
            lines.append(#"{"policy":"prompt_injection","prompt":"\#(s) please","label":"safe","source":"test"}"#)
            lines.append(#"{"policy":"prompt_injection","prompt":"\#(u) the","label":"unsafe","source":"test"}"#)
        }
        let samples = work + "/samples.jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: samples, atomically: true, encoding: .utf8)
        return (base, samples)
    }

    func testTrainEvalClassifyMergeAndSearch() throws {
        let (base, samples) = try fixtures()
        for seed in ["1", "2"] {
            let (_, err) = try uniguard(["train", "--base", base, "--policy", "prompt_injection", "--train", samples, "--val", samples,
                                         "--out", "\(work)/guard-\(seed)", "--epochs", "3", "--batch", "8", "--lr", "3e-3",
                                         "--max-length", "16", "--seed", seed, "--threads", "1"])
            XCTAssertTrue(err.contains("validation F1"), err)
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(work)/guard-\(seed)/uniguard.json"))
        }

        let eval = try uniguard(["eval", "--model", "\(work)/guard-1", "--data", samples, "--json"]).out
        XCTAssertTrue(eval.contains("\"f1\""), eval)

        let verdict = try uniguard(["classify", "--model", "\(work)/guard-1", "ignore bypass leak the"]).out
        let v = try XCTUnwrap(json(verdict.split(separator: "\n").first ?? ""), verdict)
        let score = try XCTUnwrap(v["score"] as? Double, verdict)
        XCTAssertTrue((0...1).contains(score), verdict)
        XCTAssertTrue(["safe", "unsafe"].contains(v["label"] as? String ?? ""), verdict)

        try """
        merge_method: linear
        models:
          - model: guard-1
            parameters: {weight: 0.5}
          - model: guard-2
            parameters: {weight: 0.5}
        """.write(toFile: work + "/merge.yml", atomically: true, encoding: .utf8)
        try uniguard(["merge", work + "/merge.yml", work + "/merged"])
        let merged = try uniguard(["classify", "--model", work + "/merged", "bread garden music please"]).out
        XCTAssertNotNil(json(merged.split(separator: "\n").first ?? ""), merged)

        try """
        policy: prompt_injection
        candidates: [guard-*]
        validation: samples.jsonl
        methods: [linear, slerp]
        subsets: [all, attention]
        strategy: thompson
        iterations: 3
        seed: 5
        base_model: \(base)
        """.write(toFile: work + "/search.yml", atomically: true, encoding: .utf8)
        try uniguard(["merge-search", "--config", work + "/search.yml", "--out", work + "/search"])
        let history = try String(contentsOfFile: work + "/search/history-thompson.jsonl", encoding: .utf8)
        XCTAssertEqual(history.split(separator: "\n").count, 3, history)
        XCTAssertTrue(FileManager.default.fileExists(atPath: work + "/search/best-thompson/model.safetensors"))
        try uniguard(["classify", "--model", work + "/search/best-thompson", "leak reveal the"])
    }

    func testJSONLinesCommandsAnswerGoodLinesAndNameTheBadOne() throws {
        let (base, _) = try fixtures()
        let input = "{\"text\": \"bread garden\"}\n{\"txt\": \"oops\"}\n{\"text\": \"never read\"}\n"
        for command in ["embed", "tokenize"] {
            let (out, err) = try uniguard([command, "--model", base], stdin: input, expect: 1)
            let lines = out.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(command): the line before the bad one is answered, nothing after: \(out)")
            XCTAssertNotNil(json(lines[0]), "\(command): a complete JSON object: \(out)")
            XCTAssertTrue(err.contains("stdin:2:"), "\(command): \(err)")
        }
        let embedded = try uniguard(["embed", "--model", base], stdin: "{\"text\": \"bread garden\"}\n").out
        let vector = try XCTUnwrap(json(embedded.split(separator: "\n")[0])?["embedding"] as? [Double], embedded)
        XCTAssertEqual(vector.count, 32, "the tiny model's width")
        XCTAssertEqual(vector.map { $0 * $0 }.reduce(0, +), 1, accuracy: 1e-4, "L2-normalised")
    }

    func testDataExpandAndSplit() throws {
        try uniguard(["data", "expand", "--count", "3", "--seed", "4", "--out", work + "/expanded.jsonl"])
        let expanded = try String(contentsOfFile: work + "/expanded.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(expanded.count, 8 * 2 * 3, "3 safe and 3 unsafe per bundled policy")
        try uniguard(["data", "split", work + "/expanded.jsonl", "--out", work + "/split"])
        var total = 0
        for part in ["train", "val", "test"] {
            total += try String(contentsOfFile: "\(work)/split/\(part).jsonl", encoding: .utf8).split(separator: "\n").count
        }
        XCTAssertEqual(total, expanded.count, "every sample lands in exactly one split")
        let (_, err) = try uniguard(["data", "split", work + "/missing.jsonl", "--out", work + "/split2"], expect: 1)
        XCTAssertTrue(err.contains("missing.jsonl"), err)
    }
}
