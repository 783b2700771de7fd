import Foundation
import Runtime
import Training
import XCTest

/// Locates test fixtures and the cached base model.
public enum TestSupport {
    public static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    public static func fixture(_ path: String) -> URL { fixtures.appendingPathComponent(path) }

    /// Whether a missing prerequisite fails the test instead of skipping it: `make test` (and so CI) sets
    /// `UNIGUARD_STRICT_TESTS=1`, so nothing is silently skipped there; a bare `swift test` may skip.
    public static var strict: Bool { ProcessInfo.processInfo.environment["UNIGUARD_STRICT_TESTS"] == "1" }

    /// The error to throw when a test cannot run here: a failure in strict mode, a skip otherwise.
    public static func unavailable(_ what: String, file: StaticString = #filePath, line: UInt = #line) -> Error {
        guard strict else { return XCTSkip(what) }
        XCTFail("\(what) (UNIGUARD_STRICT_TESTS=1: `make test` runs every test)", file: file, line: line)
        return Unavailable(what: what)
    }

    /// A prerequisite that strict mode reports as a failure.
    public struct Unavailable: Error, CustomStringConvertible {
        public let what: String
        public var description: String { what }
    }

    /// The base model directory; the test cannot run without it (see `unavailable`).
    public static func baseModel() throws -> URL {
        if let u = try? UniGuardHome.requireBaseModel() { return u }
        throw unavailable("base model not cached: run scripts/fetch-base-model.sh")
    }

    public static func tempDir() -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("uniguard-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    public static let safeWords = ["bread", "garden", "music", "river", "chess", "coffee", "poem", "cloud"]
    public static let unsafeWords = ["ignore", "bypass", "override", "leak", "exploit", "jailbreak", "disable", "reveal"]

    /// A tiny model directory (in `directory`, default a new temporary one): the tiny BERT weights and a
    /// 50-token vocabulary of our own words.
    public static func tinyBase(in directory: URL? = nil) throws -> URL {
        let dir = directory ?? tempDir()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let src = fixture("tiny_bert")
        for f in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: src.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        var vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + safeWords + unsafeWords + ["the", "a", "please", "now", "and"]
        while vocab.count < 50 { vocab.append("w\(vocab.count)") }
        try vocab.joined(separator: "\n").write(to: dir.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        return dir
    }

    /// `n` prompts of four safe or unsafe words from the tiny vocabulary, alternating safe / unsafe.
    public static func tinyExamples(_ n: Int, seed: UInt64) -> [TaskGuardTrainer.Example] {
        var rng = RandomSource(seed: seed)
        return (0..<n).map { i in
            let unsafe = i % 2 == 1
            let words = unsafe ? unsafeWords : safeWords
            let text = (0..<4).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ") + " please"
            return .init(text: text, label: unsafe ? 1 : 0)
        }
    }
}
