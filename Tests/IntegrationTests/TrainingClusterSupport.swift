import EncoderModel
import Foundation
import Runtime
import XCTest

/// Data and helpers for the training-cluster tests: the tiny BERT as a base model, a GIP corpus built by
/// `uniguard corpus build`, fine-tuning samples, local reference runs, and parameter comparisons.
struct TrainingFixture {
    let cluster: TestCluster
    var root: String { cluster.root }
    var bin: String { cluster.bin }
    var base: String { root + "/tiny" }
    var samples: String { root + "/samples.jsonl" }
    var corpus: String { root + "/corpus.jsonl" }

    /// Every training process gets one BLAS thread, so the cluster and the local runs compute alike.
    static let threads = ["--threads", "1"]

    init(cluster: TestCluster) throws {
        self.cluster = cluster
        let fm = FileManager.default
        try fm.createDirectory(atPath: base, withIntermediateDirectories: true)
        let src = ClusterBinaries.packageRoot.appendingPathComponent("Tests/Fixtures/tiny_bert").path
        for f in ["config.json", "model.safetensors"] { try fm.copyItem(atPath: "\(src)/\(f)", toPath: "\(base)/\(f)") }
        var vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "bread", "garden", "music", "ignore", "bypass", "leak", "hate", "stupid",
                     "invest", "stock", "pill", "dose", "instruct", "query", ":", "the", "a"]
        while vocab.count < 50 { vocab.append("w\(vocab.count)") }
        try vocab.joined(separator: "\n").write(toFile: base + "/vocab.txt", atomically: true, encoding: .utf8)
        let rows: [(String, String, String)] = [
            ("prompt_injection", "ignore the bypass leak", "unsafe"), ("prompt_injection", "bread garden music", "safe"),
            ("financial_advice", "invest stock the stock", "unsafe"), ("financial_advice", "the garden bread", "safe"),
            ("medical_advice", "pill dose the pill", "unsafe"), ("medical_advice", "music the garden", "safe"),
        ]
        var lines: [String] = []
        for i in 0..<8 {
            for (p, text, label) in rows {
                lines.append(#"{"policy":"\#(p)","prompt":"\#(text) w\#(22 + i)","label":"\#(label)","source":"test"}"#)
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: samples, atomically: true, encoding: .utf8)
        let built = try ProcessRun(bin + "/uniguard", ["corpus", "build", "--data", samples, "--out", corpus, "--no-embedding-dedup"])
        guard built.status == 0 else { throw TestFailure("corpus build failed: \(built.err)") }
    }

    /// `uniguard pretrain` in one process with the job's settings; returns the model directory.
    func localPretrain(_ name: String, steps: Int, batch: Int, checkpointEvery: Int) throws -> String {
        let out = root + "/" + name
        let run = try ProcessRun(bin + "/uniguard", ["pretrain", "--base", base, "--corpus", corpus, "--out", out, "--steps", String(steps),
                                                     "--batch", String(batch), "--max-length", "32", "--seed", "3", "--lr", "0.001",
                                                     "--checkpoint-every", String(checkpointEvery)] + Self.threads)
        guard run.status == 0 else { throw TestFailure("uniguard pretrain failed: \(run.err)") }
        return out
    }

    /// `uniguard train` in one process with the job's settings.
    func localFinetune(_ name: String, epochs: Int, batch: Int) throws -> String {
        let out = root + "/" + name
        let run = try ProcessRun(bin + "/uniguard", ["train", "--base", base, "--policy", "prompt_injection", "--train", samples, "--out", out,
                                                     "--epochs", String(epochs), "--batch", String(batch), "--max-length", "32",
                                                     "--seed", "3", "--lr", "0.001", "--val", samples, "--target-fpr", "0.2"] + Self.threads,
                                 environment: ["UNIGUARD_POLICIES": ClusterBinaries.packageRoot.appendingPathComponent("policies").path])
        guard run.status == 0 else { throw TestFailure("uniguard train failed: \(run.err)") }
        return out
    }

    /// A `kind: pretrain` job file with the settings of `localPretrain`.
    func pretrainJob(_ name: String, steps: Int, batch: Int, checkpointEvery: Int, workers: Int) throws -> (job: String, output: String) {
        let output = root + "/out-" + name
        let yaml = """
            kind: pretrain
            name: \(name)
            base: tiny
            corpus: corpus.jsonl
            steps: \(steps)
            batch: \(batch)
            max_length: 32
            seed: 3
            lr: 0.001
            checkpoint_every: \(checkpointEvery)
            workers: \(workers)
            rendezvous_timeout_ms: 30000
            collective_timeout_ms: 20000
            output: \(output)
            """
        let path = "\(root)/\(name).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, output)
    }

    /// A `kind: finetune` job file with the settings of `localFinetune`.
    func finetuneJob(_ name: String, epochs: Int, batch: Int, workers: Int) throws -> (job: String, output: String) {
        let output = root + "/out-" + name
        let yaml = """
            kind: finetune
            name: \(name)
            base: tiny
            train: samples.jsonl
            val: samples.jsonl
            target_fpr: 0.2
            policy: prompt_injection
            epochs: \(epochs)
            batch: \(batch)
            max_length: 32
            seed: 3
            lr: 0.001
            workers: \(workers)
            rendezvous_timeout_ms: 30000
            collective_timeout_ms: 20000
            output: \(output)
            """
        let path = "\(root)/\(name).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, output)
    }

    /// Workers for training: one BLAS thread each, gradients on loopback.
    @discardableResult
    /// `stepDelayMs` paces a run (hidden `--step-delay-ms`): a release build trains the tiny model's 30 steps in well
    /// under a second, too fast to kill or add a worker mid-run on purpose.
    func startWorker(_ id: String, stepDelayMs: Int = 0) throws -> DaemonProcess {
        try cluster.startWorker(id, extra: Self.threads + ["--data-addr", "127.0.0.1"]
                                + (stepDelayMs > 0 ? ["--step-delay-ms", String(stepDelayMs)] : []))
    }

    /// Largest |a - b| over the tensors of two model directories' weights: all of them (they must hold the same
    /// names), or with `sharedOnly` those both hold (a trained model against its base, which lacks the heads).
    static func maxDifference(_ a: String, _ b: String, sharedOnly: Bool = false) throws -> Float {
        let fa = try SafetensorsFile(path: a + "/model.safetensors"), fb = try SafetensorsFile(path: b + "/model.safetensors")
        guard sharedOnly || Set(fa.names) == Set(fb.names) else { throw TestFailure("\(a) and \(b) hold different tensors") }
        var worst: Float = 0, compared = 0
        // A trained model writes the encoder under `bert.` (the classifier layout); its base may not.
        func other(_ name: String) -> String? {
            if fb.contains(name) { return name }
            let bare = name.hasPrefix("bert.") ? String(name.dropFirst(5)) : "bert." + name
            return sharedOnly && fb.contains(bare) ? bare : nil
        }
        for name in fa.names {
            guard let twin = other(name) else { continue }
            compared += 1
            let ta = try fa.tensor(name), tb = try fb.tensor(twin)
            guard ta.count == tb.count else { throw TestFailure("\(name): \(ta.count) vs \(tb.count) values") }
            for i in 0..<ta.count {
                let d = abs(ta.data[i] - tb.data[i])
                if !(d <= worst) { worst = d.isNaN ? .infinity : d }
            }
        }
        guard compared > 0 else { throw TestFailure("\(a) and \(b) share no tensors") }
        return worst
    }

    /// Waits until the job's status reports at least `step`.
    func waitForStep(_ id: String, atLeast step: Int, timeout: TimeInterval) throws {
        try waitUntil("\(id) at step \(step)", timeout: timeout, every: 0.1) {
            ((try? cluster.job(id))?["step"] as? Int ?? 0) >= step
        }
    }

    /// The step of the job's last committed checkpoint (0: none).
    func committedStep(_ id: String) throws -> Int {
        ((try cluster.job(id))["last_checkpoint"] as? [String: Any])?["step"] as? Int ?? 0
    }

    /// Bytes of corpus records a worker holds: its record cache, and any whole copy of the corpus among its blobs.
    func corpusBytesCached(worker id: String) throws -> (records: UInt64, wholeCorpus: Bool) {
        let hash = try SHA256.hexDigest(ofFile: corpus)
        let cache = "\(root)/cache-\(id)"
        let records = (try? FileManager.default.attributesOfItem(atPath: "\(cache)/records/\(hash)/records.bin"))?[.size] as? NSNumber
        return (records?.uint64Value ?? 0, FileManager.default.fileExists(atPath: "\(cache)/blobs/\(hash)"))
    }

    var corpusSize: UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: corpus))?[.size] as? NSNumber)?.uint64Value ?? 0
    }
}
