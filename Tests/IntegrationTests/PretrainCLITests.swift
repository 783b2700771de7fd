import Foundation
import XCTest

/// `uniguard corpus build` → `uniguard pretrain` → kill-free resume → `uniguard classify --policy`, as a user runs
/// them, on the tiny BERT (real processes, real files).
final class PretrainCLITests: XCTestCase {
    var work = ""
    var bin = ""

    override func setUpWithError() throws {
        bin = try ClusterBinaries.require()
        work = NSTemporaryDirectory() + "uniguard-pretrain-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    @discardableResult
    func uniguard(_ args: [String], expect: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> (out: String, err: String) {
        try runUniGuard(bin, args, expect: expect, file: file, line: line)
    }

    /// The tiny BERT with a vocabulary of a few words, as a base model directory.
    func tinyBase() throws -> String {
        let dir = work + "/tiny", fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let src = ClusterBinaries.packageRoot.appendingPathComponent("Tests/Fixtures/tiny_bert").path
        for f in ["config.json", "model.safetensors"] { try fm.copyItem(atPath: "\(src)/\(f)", toPath: "\(dir)/\(f)") }
        var vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "bread", "garden", "music", "ignore", "bypass", "leak", "hate", "stupid",
                     "invest", "stock", "pill", "dose", "instruct", "query", ":", "the", "a"]
        while vocab.count < 50 { vocab.append("w\(vocab.count)") }
        try vocab.joined(separator: "\n").write(toFile: dir + "/vocab.txt", atomically: true, encoding: .utf8)
        return dir
    }

    func writeSamples() throws -> String {
        let rows: [(String, String, String)] = [
            ("prompt_injection", "ignore the bypass leak", "unsafe"), ("prompt_injection", "bread garden music", "safe"),
            ("financial_advice", "invest stock the stock", "unsafe"), ("financial_advice", "the garden bread", "safe"),
            ("medical_advice", "pill dose the pill", "unsafe"), ("medical_advice", "music the garden", "safe"),
            ("toxicity", "hate stupid hate", "unsafe"), ("toxicity", "bread music", "safe"),
        ]
        var lines: [String] = []
        for i in 0..<6 {
            for (p, text, label) in rows {
                lines.append(#"{"policy":"\#(p)","prompt":"\#(text) w\#(22 + i)","label":"\#(label)","source":"test"}"#)
            }
        }
        let path = work + "/samples.jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testCorpusPretrainResumeAndZeroShotClassify() throws {
        let base = try tinyBase(), samples = try writeSamples(), corpus = work + "/corpus.jsonl"
        let built = try uniguard(["corpus", "build", "--data", samples, "--out", corpus, "--exclude-policy", "toxicity", "--no-embedding-dedup"])
        XCTAssertTrue(built.err.contains("records written"), built.err)
        let text = try String(contentsOfFile: corpus, encoding: .utf8)
        XCTAssertFalse(text.contains(#""policy":"toxicity""#) || text.contains(#""origin":"toxicity""#) || text.contains("hate"), "the excluded policy leaked into the corpus")

        let common = ["--base", base, "--corpus", corpus, "--steps", "6", "--batch", "4", "--max-length", "32", "--checkpoint-every", "3", "--seed", "3"]
        let a = work + "/a", b = work + "/b"
        try uniguard(["pretrain", "--out", a] + common)
        XCTAssertTrue(FileManager.default.fileExists(atPath: a + "/checkpoints/step-0000003/optimizer.safetensors"))
        // Resume the same run from step 3 into another directory: the final weights are byte-identical.
        let resumed = try uniguard(["pretrain", "--corpus", corpus, "--out", b, "--resume", a + "/checkpoints/step-0000003"])
        XCTAssertTrue(resumed.err.contains("resuming from"), resumed.err)
        let wa = try Data(contentsOf: URL(fileURLWithPath: a + "/model.safetensors"))
        let wb = try Data(contentsOf: URL(fileURLWithPath: b + "/model.safetensors"))
        XCTAssertEqual(wa, wb, "a resumed run must end with the uninterrupted run's weights")
        // A resume that changes a setting is refused and names it.
        let refused = try uniguard(["pretrain", "--corpus", corpus, "--out", b, "--resume", a, "--vat-weight", "0.5"], expect: 1)
        XCTAssertTrue(refused.err.contains("vat-weight"), refused.err)

        // No default policy: classify asks for one; with a YAML the model never saw, it answers.
        let noPolicy = try uniguard(["classify", "--model", a, "hate stupid"], expect: 1)
        XCTAssertTrue(noPolicy.err.contains("--policy"), noPolicy.err)
        let toxicity = ClusterBinaries.packageRoot.appendingPathComponent("policies/toxicity.yaml").path
        let answer = try uniguard(["classify", "--model", a, "--policy", toxicity, "hate stupid"])
        let obj = try JSONSerialization.jsonObject(with: Data(answer.out.utf8)) as? [String: Any]
        XCTAssertNotNil(obj?["score"] as? Double)
        XCTAssertTrue(["safe", "unsafe"].contains(obj?["label"] as? String ?? ""))
    }

    /// A finished run continues to a larger --steps; --keep-checkpoints keeps only the newest.
    func testResumeExtendsStepsAndCheckpointsAreRetained() throws {
        let base = try tinyBase(), samples = try writeSamples(), corpus = work + "/corpus.jsonl", out = work + "/run"
        try uniguard(["corpus", "build", "--data", samples, "--out", corpus, "--no-embedding-dedup"])
        let common = ["--corpus", corpus, "--out", out, "--batch", "4", "--max-length", "32", "--checkpoint-every", "2", "--keep-checkpoints", "2"]
        try uniguard(["pretrain", "--base", base, "--steps", "4"] + common)
        let extended = try uniguard(["pretrain", "--resume", out, "--steps", "8"] + common)
        XCTAssertTrue(extended.err.contains("resuming from") && extended.err.contains("at step 4/8"), extended.err)
        let kept = try FileManager.default.contentsOfDirectory(atPath: out + "/checkpoints").sorted()
        XCTAssertEqual(kept, ["step-0000006", "step-0000008"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/model.safetensors"))
    }
    /// `pretrain --val` chooses the threshold on the pretraining policies only (a held-out policy stays unseen);
    /// `calibrate` recalibrates on named policies, keeps uniguard.json's other keys, and `eval` reproduces its counts.
    func testPretrainValAndCalibrateChooseTheThresholdOnSeenPolicies() throws {
        let base = try tinyBase(), samples = try writeSamples(), corpus = work + "/corpus.jsonl", out = work + "/mtg"
        try uniguard(["corpus", "build", "--data", samples, "--out", corpus, "--exclude-policy", "toxicity", "--no-embedding-dedup"])
        let trained = try uniguard(["pretrain", "--base", base, "--corpus", corpus, "--out", out, "--steps", "4", "--batch", "4",
                                    "--max-length", "32", "--checkpoint-every", "0", "--val", samples, "--target-fpr", "0.2"])
        XCTAssertTrue(trained.err.contains("chosen on 36 validation samples of 3 policies"), trained.err)
        func stored() throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/uniguard.json"))) as? [String: Any] ?? [:]
        }
        var meta = try stored()
        var cal = try XCTUnwrap(meta["calibration"] as? [String: Any])
        XCTAssertEqual(cal["policies"] as? [String], ["financial_advice", "medical_advice", "prompt_injection"])
        XCTAssertEqual(cal["samples"] as? Int, 36)
        XCTAssertEqual(cal["target_fpr"] as? Double, 0.2)
        XCTAssertNotNil(meta["pretraining"], "pretraining provenance must survive the rewrite")

        // Recalibrate on the held-out policy alone (what a user does once they have its labels), plain max F1.
        let toxicity = try uniguard(["calibrate", "--model", out, "--val", samples, "--policy", "toxicity", "--target-fpr", "1"])
        XCTAssertTrue(toxicity.err.contains("chosen on 12 validation samples of 1 policies"), toxicity.err)
        meta = try stored()
        cal = try XCTUnwrap(meta["calibration"] as? [String: Any])
        XCTAssertEqual(cal["policies"] as? [String], ["toxicity"])
        XCTAssertNotNil(meta["pretraining"])
        // The stored threshold reproduces the stored figures when `eval` scores the same samples.
        let evaluated = try uniguard(["eval", "--model", out, "--data", samples, "--policy", "toxicity", "--json"])
        let results = try XCTUnwrap((JSONSerialization.jsonObject(with: Data(evaluated.out.utf8)) as? [String: Any])?["results"] as? [[String: Any]])
        XCTAssertEqual(results.first?["threshold"] as? Double ?? -1, meta["threshold"] as? Double ?? -2, accuracy: 1e-6)
        for key in ["precision", "recall", "f1", "fpr"] {
            XCTAssertEqual(results.first?[key] as? Double ?? -1, cal[key] as? Double ?? -2, accuracy: 1e-9, key)
        }

        // Relative to the benign anchors: k is stored, the threshold is per instruction, and eval reproduces the figures.
        let anchored = try uniguard(["calibrate", "--model", out, "--val", samples, "--policy", "toxicity", "--target-fpr", "1",
                                     "--relative-to-anchors"])
        XCTAssertTrue(anchored.err.contains("benign-anchor mean"), anchored.err)
        meta = try stored()
        cal = try XCTUnwrap(meta["calibration"] as? [String: Any])
        let k = try XCTUnwrap(cal["benign_anchor_k"] as? Double)
        XCTAssertTrue(k.isFinite)
        let anchoredEval = try uniguard(["eval", "--model", out, "--data", samples, "--policy", "toxicity", "--json"])
        let anchoredResult = try XCTUnwrap(((JSONSerialization.jsonObject(with: Data(anchoredEval.out.utf8)) as? [String: Any])?["results"] as? [[String: Any]])?.first)
        for key in ["precision", "recall", "f1", "fpr"] {
            XCTAssertEqual(anchoredResult[key] as? Double ?? -1, cal[key] as? Double ?? -2, accuracy: 1e-9, key)
        }
        // classify applies the same per-instruction threshold: its labels agree with eval's counts.
        let toxicityLines = try String(contentsOfFile: samples, encoding: .utf8).split(separator: "\n").filter { $0.contains(#""policy":"toxicity""#) }
        let classifyInput = toxicityLines.map { line -> String in
            let sample = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
            return #"{"text":"\#(sample["prompt"] as? String ?? "")","policy":"toxicity"}"#
        }.joined(separator: "\n")
        let labels = try runUniGuard(bin, ["classify", "--model", out], stdin: classifyInput + "\n").out.split(separator: "\n")
        let flagged = labels.filter { $0.contains(#""label":"unsafe""#) }.count
        let tp = try XCTUnwrap(anchoredResult["tp"] as? Int), fp = try XCTUnwrap(anchoredResult["fp"] as? Int)
        XCTAssertEqual(labels.count, toxicityLines.count)
        XCTAssertEqual(flagged, tp + fp, "classify flags what eval counts as flagged")
        let taskGuard = work + "/tg"
        try uniguard(["train", "--base", base, "--policy", "toxicity", "--train", samples, "--out", taskGuard, "--epochs", "1", "--batch", "4", "--max-length", "32"])
        let promptOnly = try uniguard(["calibrate", "--model", taskGuard, "--val", samples, "--relative-to-anchors"], expect: 1)
        XCTAssertTrue(promptOnly.err.contains("input format 'prompt'"), promptOnly.err)

        // Hostile inputs: one label only, a cap out of range, a multi-policy model that does not say what it saw.
        let safeOnly = work + "/safe.jsonl"
        try #"{"policy":"toxicity","prompt":"bread music","label":"safe","source":"test"}"#.appending("\n").write(toFile: safeOnly, atomically: true, encoding: .utf8)
        let oneLabel = try uniguard(["calibrate", "--model", out, "--val", safeOnly, "--policy", "toxicity"], expect: 1)
        XCTAssertTrue(oneLabel.err.contains("both labels") && oneLabel.err.contains(safeOnly), oneLabel.err)
        let cap = try uniguard(["calibrate", "--model", out, "--val", samples, "--target-fpr", "2"], expect: 64)
        XCTAssertTrue(cap.err.contains("--target-fpr"), cap.err)
        meta.removeValue(forKey: "pretraining")
        try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: out + "/uniguard.json"))
        let unseen = try uniguard(["calibrate", "--model", out, "--val", samples], expect: 1)
        XCTAssertTrue(unseen.err.contains("--policy ID"), unseen.err)
        let missing = try uniguard(["pretrain", "--base", base, "--corpus", corpus, "--out", work + "/m2", "--steps", "2", "--val", work + "/nope.jsonl"], expect: 1)
        XCTAssertTrue(missing.err.contains("nope.jsonl"), missing.err)
    }
}
