import Foundation
import XCTest

/// Inputs that used to be misread, silently accepted or answered with help: each now gets the answer or a clear
/// error, from a real `uniguard` process.
final class CLIInputHandlingTests: XCTestCase {
    func json(_ text: String) -> [String: Any]? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] }

    /// A guard called from a script with a prompt like "-how do I deduct" must answer, never print help and exit 0.
    func testAPromptStartingWithADashIsClassified() throws {
        let cli = try TinyGuardCLI(self), model = try cli.trainedGuard()
        for arguments in [["classify", "--model", model, "-how do I deduct"], ["classify", "-how", "--model", model],
                          ["classify", "--model", model, "--", "-h"]] {
            let run = try cli.run(arguments)
            XCTAssertEqual(run.status, 0, "\(arguments): \(run.err)")
            XCTAssertNotNil(json(run.out)?["score"] as? Double, "\(arguments): \(run.out)")
        }
        XCTAssertTrue(try cli.run(["classify", "--help"]).out.contains("--"), "help still works")
        try cli.run(["classify", "--model", model, "--modle", "x"]).assertUsageError(naming: "--modle", usage: "")
    }

    func testNonUTF8InputNamesTheLine() throws {
        let cli = try TinyGuardCLI(self), model = try cli.trainedGuard()
        var input = Data("{\"text\": \"bread\"}\n{\"text\": \"".utf8)
        input.append(contentsOf: [0xFF, 0xFE])
        input.append(contentsOf: Array("\"}\n".utf8))
        let run = try ProcessRun(cli.bin + "/uniguard", ["classify", "--model", model], input: input)
        XCTAssertEqual(run.status, 1, run.err)
        XCTAssertEqual(run.err, "uniguard: stdin:2: not valid UTF-8\n")
        XCTAssertEqual(run.out.split(separator: "\n").count, 1, "the line before is answered")
    }

    func testAPolicyGivenToAPromptFormatGuardIsReportedAsIgnored() throws {
        let cli = try TinyGuardCLI(self), model = try cli.trainedGuard()
        let run = try cli.run(["classify", "--model", model, "--policy", "safety", "bread"])
        XCTAssertEqual(run.status, 0, run.err)
        XCTAssertTrue(run.err.contains("uniguard: warning: the policy is ignored"), run.err)
    }

    /// Outside the checkout there is no bundled pack; the error names the option classify has.
    func testClassifyOutsideTheCheckoutNamesItsOwnOption() throws {
        let cli = try TinyGuardCLI(self), model = try cli.trainedGuard()
        let outside = cli.work + "/bin"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: cli.bin + "/uniguard", toPath: outside + "/uniguard")
        let run = try ProcessRun(outside + "/uniguard", ["classify", "--model", model, "--policy", "safety", "bread"], directory: cli.work)
        run.assertRuntimeFailure(line: "uniguard: ")
        XCTAssertTrue(run.err.contains("--policy FILE.yaml"), run.err)
        XCTAssertFalse(run.err.contains("--policies"), "classify has no --policies:\n\(run.err)")
    }

    func testMaxLengthBeyondTheModelsPositionsIsAUsageError() throws {
        let cli = try TinyGuardCLI(self), data = try cli.samples("train.jsonl")
        var arguments = cli.trainArguments(data, out: cli.work + "/guard")
        arguments[arguments.count - 1] = "100000"
        let run = try cli.run(arguments)
        run.assertUsageError(naming: "--max-length must be at most 40", usage: "Usage: uniguard train")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cli.work + "/guard"))
    }

    func testOneClassTrainingDataIsWarnedAbout() throws {
        let cli = try TinyGuardCLI(self), data = try cli.samples("safe.jsonl", only: "safe")
        let run = try cli.run(cli.trainArguments(data, out: cli.work + "/guard"))
        XCTAssertEqual(run.status, 0, run.err)
        XCTAssertTrue(run.err.contains("uniguard: warning: \(data) has no unsafe samples"), run.err)
    }

    /// The bundled `safety` instruction is longer than 32 tokens: it is cut, with one warning, and the prompt kept.
    func testALongInstructionIsCutWithAWarning() throws {
        let cli = try TinyGuardCLI(self), data = try cli.samples("train.jsonl")
        let run = try cli.run(cli.trainArguments(data, out: cli.work + "/guard") + ["--input", "instruction"])
        XCTAssertEqual(run.status, 0, run.err)
        XCTAssertEqual(run.err.components(separatedBy: "uniguard: warning: the policy instruction is longer").count, 2, run.err)
    }

    func testEvalJSONHasOneShapeForAnyNumberOfModels() throws {
        let cli = try TinyGuardCLI(self), model = try cli.trainedGuard(), data = try cli.samples("test.jsonl")
        for models in [[model], [model, model]] {
            let run = try cli.run(["eval", "--data", data, "--json"] + models.flatMap { ["--model", $0] })
            XCTAssertEqual(run.status, 0, run.err)
            let results = json(run.out)?["results"] as? [[String: Any]]
            XCTAssertEqual(results?.count, models.count, run.out)
            XCTAssertNotNil(results?.first?["f1"] as? Double, run.out)
        }
    }

    func testCorpusBuildReportsProgress() throws {
        let cli = try TinyGuardCLI(self), data = try cli.samples("train.jsonl", count: 600)
        let run = try cli.run(["corpus", "build", "--data", data, "--out", cli.work + "/corpus.jsonl", "--no-embedding-dedup", "--dedup-batch", "100"],
                              environment: ["UNIGUARD_PROGRESS_SECONDS": "0"])
        XCTAssertEqual(run.status, 0, run.err)
        XCTAssertTrue(run.err.contains("corpus: 100 samples read"), run.err)
    }
}
