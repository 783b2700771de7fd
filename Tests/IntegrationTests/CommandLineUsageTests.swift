import Foundation
import XCTest

/// The three executables as a user meets them: a bad option value is a usage error (its message, the usage line,
/// exit 64) before any work; a failure at runtime is one clear line and exit 1, without the usage.
final class CommandLineUsageTests: XCTestCase {
    var bin = ""
    var work = ""

    override func setUpWithError() throws {
        bin = try ClusterBinaries.require()
        let directory = NSTemporaryDirectory() + "uniguard-usage-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        work = directory
    }

    /// A training command line that is complete, so only the option under test can be wrong.
    var train: [String] { ["train", "--policy", "safety", "--train", work + "/train.jsonl", "--out", work + "/out"] }

    func testTrainOptionsOutOfRangeAreUsageErrors() throws {
        for (option, value) in [("--epochs", "0"), ("--epochs", "1000000000"), ("--batch", "0"), ("--lr", "nan"), ("--lr", "-1"), ("--max-length", "0"), ("--threads", "0")] {
            let run = try ProcessRun(bin + "/uniguard", train + ["\(option)=\(value)"])
            run.assertUsageError(naming: option, usage: "Usage: uniguard train")
        }
    }

    func testAnUnknownEnumValueNamesTheAllowedOnes() throws {
        let mode = try ProcessRun(bin + "/uniguard", train + ["--mode", "bogus"])
        mode.assertUsageError(naming: "'bogus'", usage: "Usage: uniguard train")
        XCTAssertTrue(mode.err.contains("'fft'") && mode.err.contains("'cft'"), mode.err)
        let input = try ProcessRun(bin + "/uniguard", train + ["--input", "query"])
        XCTAssertTrue(input.err.contains("'prompt'") && input.err.contains("'instruction'"), input.err)

        let help = try ProcessRun(bin + "/uniguard", ["train", "--help"])
        XCTAssertEqual(help.status, 0, help.err)
        // Help text is wrapped to the terminal width; compare it as one line.
        let text = help.out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for listed in ["values: fft, cft", "values: prompt, instruction", "values: mean, cls"] {
            XCTAssertTrue(text.contains(listed), "train --help lists \(listed):\n\(help.out)")
        }
    }

    func testOtherUniguardCommandsCheckTheirOptions() throws {
        let cases: [([String], String)] = [
            (["pretrain", "--corpus", "c", "--out", "o", "--steps", "0"], "--steps"),
            (["pretrain", "--corpus", "c", "--out", "o", "--checkpoint-every=-1"], "--checkpoint-every"),
            (["eval", "--model", "m", "--data", "d", "--threads", "100000"], "--threads"),
            (["embed", "--batch-size", "0"], "--batch-size"),
            (["tokenize", "--max-length", "0"], "--max-length"),
            (["corpus", "build", "--data", "d", "--out", "o", "--near-dup-threshold", "nan"], "--near-dup-threshold"),
            (["data", "split", "f", "--out", "o", "--val", "0.7", "--test", "0.7"], "--val/--test"),
            (["merge-search", "--config", "c", "--out", "o", "--threads", "0"], "--threads"),
            (["bench", "infer", "--runs", "0"], "--runs"),
        ]
        for (arguments, option) in cases {
            let run = try ProcessRun(bin + "/uniguard", arguments)
            run.assertUsageError(naming: option, usage: "Usage: uniguard \(arguments[0])")
        }
    }

    func testDaemonsCheckTheirOptions() throws {
        let worker = try ProcessRun(bin + "/worker", ["--coordinator", "tcp://127.0.0.1:1", "--slots", "0"])
        worker.assertUsageError(naming: "--slots", usage: "Usage: worker")
        let threads = try ProcessRun(bin + "/worker", ["--coordinator", "tcp://127.0.0.1:1", "--threads", "0"])
        threads.assertUsageError(naming: "--threads", usage: "Usage: worker")
        let level = try ProcessRun(bin + "/worker", ["--coordinator", "tcp://127.0.0.1:1", "--log-level", "loud"])
        level.assertUsageError(naming: "'loud'", usage: "")
        XCTAssertTrue(level.err.contains("critical"), "the allowed levels are listed:\n\(level.err)")

        let interval = try ProcessRun(bin + "/coordinator", ["status", "--endpoint", "tcp://127.0.0.1:1", "--interval-ms", "0"])
        interval.assertUsageError(naming: "--interval-ms", usage: "Usage: coordinator status")
        let unknown = try ProcessRun(bin + "/coordinator", ["status", "--endpoint", "tcp://127.0.0.1:1", "--bogus"])
        unknown.assertUsageError(naming: "--bogus", usage: "Usage: coordinator status")
        let slots = try ProcessRun(bin + "/coordinator", ["serve", "--local-worker-slots", "0"])
        slots.assertUsageError(naming: "--local-worker-slots", usage: "Usage: coordinator serve")
    }

    func testRuntimeFailuresAreOneLineAndExitOne() throws {
        let missing = work + "/no-such-train.jsonl"
        let train = try ProcessRun(bin + "/uniguard", ["train", "--policy", "safety", "--train", missing, "--out", work + "/out"])
        train.assertRuntimeFailure(line: "uniguard: \(missing): no such file")

        let key = work + "/no-such.key"
        let worker = try ProcessRun(bin + "/worker", ["--coordinator", "tcp://127.0.0.1:1", "--curve-server-key", key,
                                                      "--curve-secret-key", key + "_secret"])
        worker.assertRuntimeFailure(line: "error: \(key)")

        let submit = try ProcessRun(bin + "/coordinator", ["submit", work + "/no-such-job.yaml", "--endpoint", "tcp://127.0.0.1:1"])
        submit.assertRuntimeFailure(line: "error: \(work)/no-such-job.yaml: cannot read the job file")
    }

    /// JSON lines stop at the first bad line, after answering the lines before it.
    func testJSONLinesStopAtTheFirstBadLine() throws {
        let model = work + "/tokenizer"
        try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
        try ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"].joined(separator: "\n")
            .write(toFile: model + "/vocab.txt", atomically: true, encoding: .utf8)
        let input = "{\"text\": \"hello world\"}\n{\"txt\": 1}\n{\"text\": \"world\"}\n"
        let run = try ProcessRun(bin + "/uniguard", ["tokenize", "--model", model], stdin: input)
        XCTAssertEqual(run.status, 1, run.err)
        XCTAssertEqual(run.out.split(separator: "\n").count, 1, "only the line before the bad one is answered:\n\(run.out)")
        XCTAssertEqual(run.err, "uniguard: stdin:2: missing field 'text'\n")
    }
}
