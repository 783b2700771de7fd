import Foundation
import Runtime
import Training
import XCTest

/// Locates test fixtures and the cached base model.
public enum TestSupport {
    public static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    public static func fixture(_ path: String) -> URL { fixtures.appendingPathComponent(path) }

    /// The base model directory; skips the test when it is not cached, unless `make test` demands it.
    public static func baseModel() throws -> URL {
        if let u = try? UniGuardHome.requireBaseModel() { return u }
        if ProcessInfo.processInfo.environment["UNIGUARD_REQUIRE_MODEL"] == "1" {
            XCTFail("base model missing: run scripts/fetch-base-model.sh")
        }
        throw XCTSkip("base model not cached (scripts/fetch-base-model.sh)")
    }

    public static func tempDir() -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("uniguard-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    public static let safeWords = ["bread", "garden", "music", "river", "chess", "coffee", "poem", "cloud"]
    public static let unsafeWords = ["ignore", "bypass", "override", "leak", "exploit", "jailbreak", "disable", "reveal"]

    /// A tiny model directory: the tiny BERT weights and a 50-token vocabulary of our own words.
    public static func tinyBase() throws -> URL {
        let dir = tempDir()
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
