import Foundation
import XCTest

/// Outputs as a hostile or careless user meets them: checked before the work, never an input, written as a whole
/// (Ctrl-C leaves the previous output and no temporaries), and temporaries of a killed run swept by the next.
final class CLIOutputSafetyTests: XCTestCase {
    func testTrainChecksItsOutputBeforeTraining() throws {
        let cli = try TinyGuardCLI(self), data = try cli.samples("train.jsonl")
        let file = cli.work + "/notes.txt", other = cli.work + "/home"
        try "keep me".write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try "mine".write(toFile: other + "/todo.txt", atomically: true, encoding: .utf8)
        let cases: [(String, String)] = [
            (file, "exists and is a file"), (other, "is not a model directory"), (file + "/model", "is a file, not a directory"),
            (cli.base, "is also the input --base"), (cli.work + "/./train.jsonl", "is also the input --train"),
        ]
        for (out, message) in cases {
            let run = try cli.run(cli.trainArguments(data, out: out))
            run.assertRuntimeFailure(line: "uniguard: ")
            XCTAssertTrue(run.err.contains(message), run.err)
            XCTAssertFalse(run.err.contains("epoch"), "refused before training:\n\(run.err)")
        }
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "keep me")
        XCTAssertEqual(cli.names(other), ["todo.txt"])
    }

    func testPretrainChecksItsOutputBeforeReadingTheCorpus() throws {
        let cli = try TinyGuardCLI(self), corpus = try cli.samples("corpus.jsonl"), file = cli.work + "/notes.txt"
        try "keep me".write(toFile: file, atomically: true, encoding: .utf8)
        for (out, message) in [(file, "exists and is a file"), (corpus, "is also the input --corpus"), (cli.base, "is also the input --base")] {
            let run = try cli.run(["pretrain", "--base", cli.base, "--corpus", corpus, "--out", out, "--steps", "2", "--max-length", "32"])
            run.assertRuntimeFailure(line: "uniguard: ")
            XCTAssertTrue(run.err.contains(message), run.err)
        }
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "keep me")
    }

    func testCorpusBuildAndDataSplitRefuseToOverwriteTheirInput() throws {
        let cli = try TinyGuardCLI(self), data = try cli.samples("train.jsonl")
        let before = try Data(contentsOf: URL(fileURLWithPath: data))
        let corpus = try cli.run(["corpus", "build", "--data", data, "--out", cli.work + "/sub/../train.jsonl", "--no-embedding-dedup"])
        corpus.assertRuntimeFailure(line: "uniguard: ")
        XCTAssertTrue(corpus.err.contains("is also the input --data"), corpus.err)
        let split = try cli.run(["data", "split", data, "--out", cli.work])
        split.assertRuntimeFailure(line: "uniguard: ")
        XCTAssertTrue(split.err.contains("is also the input FILE"), split.err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: data)), before, "the input is untouched")
    }

    func testRetrainingReplacesTheModelDirectoryAsAWhole() throws {
        let cli = try TinyGuardCLI(self), out = try cli.trainedGuard()
        try "stale".write(toFile: out + "/stale.txt", atomically: true, encoding: .utf8)
        let again = try cli.run(cli.trainArguments(try cli.samples("more.jsonl"), out: out))
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertFalse(cli.names(out).contains("stale.txt"), "the new directory replaced the old one whole: \(cli.names(out))")
        XCTAssertEqual(cli.names(cli.work).filter { $0.contains(".tmp-") }, [])
    }

    func testTemporariesOfAKilledRunAreSweptByTheNextOne() throws {
        let cli = try TinyGuardCLI(self), data = try cli.samples("train.jsonl"), out = cli.work + "/guard"
        var dead: Int32 = 999_999
        while kill(dead, 0) == 0 || errno == EPERM { dead -= 1 }
        try FileManager.default.createDirectory(atPath: out + ".tmp-\(dead)", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: cli.work + "/corpus.jsonl.tmp-\(dead)", contents: Data("half".utf8))
        XCTAssertEqual(try cli.run(cli.trainArguments(data, out: out)).status, 0)
        XCTAssertEqual(try cli.run(["corpus", "build", "--data", data, "--out", cli.work + "/corpus.jsonl", "--no-embedding-dedup"]).status, 0)
        XCTAssertEqual(cli.names(cli.work).filter { $0.contains(".tmp-") }, [])
    }

    /// Ctrl-C while an output is being written: the previous file stays as it was and no temporary is left.
    func testInterruptMidWriteKeepsThePreviousOutputAndLeavesNoTemporaries() throws {
        let cli = try TinyGuardCLI(self), data = try cli.samples("big.jsonl", count: 400_000), out = cli.work + "/corpus.jsonl"
        try "previous\n".write(toFile: out, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cli.bin + "/uniguard")
        process.arguments = ["corpus", "build", "--data", data, "--out", out, "--no-embedding-dedup"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let temporary = out + ".tmp-\(process.processIdentifier)"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: temporary) && process.isRunning && Date() < deadline { usleep(5_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: temporary), "the write is in progress")
        process.interrupt()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(process.terminationStatus, SIGINT)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "previous\n")
        XCTAssertEqual(cli.names(cli.work).filter { $0.contains(".tmp-") }, [])
    }
}
