@testable import GuardData
@testable import Guards
@testable import Runtime
import TestHelpers
@testable import Training
import XCTest

/// `--resume` with a larger `--steps` continues a finished run to the new total; `--keep-checkpoints N` keeps
/// the newest N; a temporary directory left by an interrupted checkpoint write is not a checkpoint.
final class PretrainExtendAndRetentionTests: XCTestCase {
    func corpus(_ dir: URL) throws -> CorpusIndex {
        let url = dir.appendingPathComponent("corpus.jsonl")
        try PretrainRunTests.writeCorpus(url, count: 20)
        return try CorpusIndex(path: url.path)
    }

    func testResumeWithLargerStepsContinuesToTheNewTotal() throws {
        let base = try TestSupport.tinyBase(), dir = TestSupport.tempDir(), index = try corpus(dir)
        let out = dir.appendingPathComponent("run")
        try PretrainRun(model: try MultiTaskGuard(directory: base, seed: 1), corpus: index, options: PretrainRunTests.options(steps: 4), output: out).run()
        let finished = try PretrainCheckpoint.locate(out)
        XCTAssertEqual(finished.step, 4, "the last step is checkpointed")

        var longer = finished.options
        longer.steps = 8
        let model = try MultiTaskGuard(directory: finished.directory, seed: 1)
        let run = try PretrainRun(model: model, corpus: index, options: longer, output: out)
        try run.resume(from: finished)
        try run.run()
        XCTAssertEqual(run.step, 8)
        XCTAssertEqual(run.trainer.optimizer.stepCount, 8)
        XCTAssertEqual(try PretrainCheckpoint.locate(out).step, 8)

        // Nothing left to do is refused, saying what to give.
        let done = try PretrainCheckpoint.locate(out)
        let again = try PretrainRun(model: try MultiTaskGuard(directory: done.directory, seed: 1), corpus: index, options: done.options, output: out)
        XCTAssertThrowsError(try again.resume(from: done)) { XCTAssertTrue("\($0)".contains("--steps above it"), "\($0)") }
    }

    func testKeepCheckpointsKeepsTheNewest() throws {
        let base = try TestSupport.tinyBase(), dir = TestSupport.tempDir(), index = try corpus(dir)
        let out = dir.appendingPathComponent("run")
        var o = PretrainRunTests.options(steps: 7)
        o.checkpointEvery = 2
        let run = try PretrainRun(model: try MultiTaskGuard(directory: base, seed: 1), corpus: index, options: o, output: out)
        run.keepCheckpoints = 2
        try run.run()
        XCTAssertEqual(PretrainCheckpoint.steps(in: out), [6, 7])
    }

    func testAnInterruptedCheckpointWriteIsNotACheckpoint() throws {
        let base = try TestSupport.tinyBase(), dir = TestSupport.tempDir(), index = try corpus(dir)
        let out = dir.appendingPathComponent("run")
        try PretrainRun(model: try MultiTaskGuard(directory: base, seed: 1), corpus: index, options: PretrainRunTests.options(steps: 3), output: out).run()
        // What a process killed mid-write leaves: a later-named temporary directory without a trainer state.
        let litter = PretrainCheckpoint.directory(in: out, step: 6).path + TemporaryPaths.marker + "999999"
        try FileManager.default.createDirectory(atPath: litter, withIntermediateDirectories: true)
        XCTAssertEqual(PretrainCheckpoint.steps(in: out), [3])
        XCTAssertEqual(try PretrainCheckpoint.locate(out).step, 3)
    }
}
