import Foundation
@testable import Guards
@testable import Runtime
import TestHelpers
@testable import Training
import XCTest

/// The fine-tuning loop in one process: checkpoints resume bit for bit, a stop request ends at a step
/// boundary, settings decode from their snake_case keys, and bad resumes are refused with what to do.
final class FinetuneRunTests: XCTestCase {
    func model(_ base: URL) throws -> GuardModel {
        try GuardModel.fromBase(base, metadata: GuardMetadata(policy: "t", instruction: "test policy", inputFormat: .prompt, head: .mean, maxLength: 16), seed: 1)
    }

    static func options() -> TrainingOptions {
        var o = TrainingOptions()
        o.epochs = 3; o.batch = 5; o.lr = 3e-3; o.warmupRatio = 0.2; o.checkpointEvery = 4
        return o
    }

    func testResumeFromAnyCheckpointMatchesTheUninterruptedRun() throws {
        let base = try TestSupport.tinyBase(), out = TestSupport.tempDir()
        let examples = TestSupport.tinyExamples(18, seed: 2)  // 4 steps per epoch, the last of 3 rows
        let full = try model(base)
        var written: [Int] = []
        let run = try FinetuneRun(model: full, options: Self.options(), examples: examples, output: out)
        let summaries = try run.run(onCheckpoint: { _, step in written.append(step) })
        XCTAssertEqual(written, [4, 8, 12])
        XCTAssertEqual(summaries.count, 3)
        XCTAssertEqual(FinetuneCheckpoint.steps(in: out), [4, 8, 12])

        // The same parameters as the training loop before checkpoints existed (TaskGuardTrainer.train).
        var plainOptions = Self.options()
        plainOptions.checkpointEvery = 0
        let plain = try model(base)
        try TaskGuardTrainer(model: plain, options: plainOptions).train(examples)
        XCTAssertEqual(plain.params.values.array, full.params.values.array, "checkpointing changed the numbers")

        for step in [4, 8] {
            let checkpoint = try FinetuneCheckpoint.locate(FinetuneCheckpoint.directory(in: out, step: step))
            XCTAssertEqual(checkpoint.step, step)
            let resumed = try checkpoint.loadModel()
            let again = try FinetuneRun(model: resumed, options: Self.options(), examples: examples, output: TestSupport.tempDir())
            try again.resume(from: checkpoint)
            let rest = try again.run()
            XCTAssertEqual(rest.map(\.epoch), Array((step / 4 + 1)...3))
            XCTAssertEqual(rest.last?.trainLoss, summaries.last?.trainLoss)
            XCTAssertEqual(resumed.params.values.array, full.params.values.array, "resumed at step \(step)")
            XCTAssertEqual(again.trainer.optimizer.m.array, run.trainer.optimizer.m.array)
        }
        // The latest checkpoint is found from the output directory.
        XCTAssertEqual(try FinetuneCheckpoint.locate(out).step, 12)
    }

    func testStopRequestEndsAtAStepBoundary() throws {
        let m = try model(try TestSupport.tinyBase())
        let run = try FinetuneRun(model: m, options: Self.options(), examples: TestSupport.tinyExamples(18, seed: 2))
        var steps: [Int] = []
        run.shouldStop = { [unowned run] in run.step == 6 }
        try run.run(onProgress: { steps.append($0.step) })
        XCTAssertEqual(steps, Array(1...6))
        XCTAssertEqual(run.step, 6)
    }

    func testResumeRefusesOtherSettingsAndOtherData() throws {
        let base = try TestSupport.tinyBase(), out = TestSupport.tempDir()
        let examples = TestSupport.tinyExamples(18, seed: 2)
        try FinetuneRun(model: try model(base), options: Self.options(), examples: examples, output: out).run()
        let checkpoint = try FinetuneCheckpoint.locate(FinetuneCheckpoint.directory(in: out, step: 8))
        var other = Self.options()
        other.lr = 1e-3
        XCTAssertThrowsError(try FinetuneRun(model: try checkpoint.loadModel(), options: other, examples: examples).resume(from: checkpoint)) {
            XCTAssertTrue("\($0)".contains("lr: checkpoint"), "\($0)")
        }
        XCTAssertThrowsError(try FinetuneRun(model: try checkpoint.loadModel(), options: Self.options(),
                                             examples: Array(examples.dropLast())).resume(from: checkpoint)) {
            XCTAssertTrue("\($0)".contains("not the ones the checkpoint was trained on"), "\($0)")
        }
        // A pretraining checkpoint is not a fine-tuning one.
        try #"{"step": 3}"#.write(to: checkpoint.directory.appendingPathComponent("trainer_state.json"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FinetuneCheckpoint.locate(checkpoint.directory)) {
            XCTAssertTrue("\($0)".contains("not a fine-tuning trainer state"), "\($0)")
        }
    }

    func testSettingsDecodeFromTheCLIOptionNamesWithTheCLIDefaults() throws {
        let minimal = try JSONDecoder().decode(FinetuneSettings.self, from: Data(#"{"train": "t.jsonl", "policy": "safety"}"#.utf8))
        XCTAssertEqual(minimal, FinetuneSettings(train: "t.jsonl", policy: "safety"))
        XCTAssertEqual(minimal.batch, 16); XCTAssertEqual(minimal.maxLength, 128); XCTAssertEqual(minimal.epochs, 3)
        let json = #"{"train": "a.jsonl", "val": "b.jsonl", "policy": "p", "epochs": 2, "mode": "cft", "input": "instruction", "head": "cls", "#
            + #""batch": 8, "lr": 0.001, "max_length": 64, "seed": 7, "dropout": false, "checkpoint_every": 5, "skip_invalid": true}"#
        let s = try JSONDecoder().decode(FinetuneSettings.self, from: Data(json.utf8))
        XCTAssertEqual(s.mode, .cft); XCTAssertEqual(s.input, .instruction); XCTAssertEqual(s.head, .cls)
        XCTAssertEqual(s.maxLength, 64); XCTAssertEqual(s.checkpointEvery, 5); XCTAssertFalse(s.dropout); XCTAssertTrue(s.skipInvalid)
        let o = s.options
        XCTAssertEqual(o.batch, 8); XCTAssertEqual(o.lr, 1e-3); XCTAssertEqual(o.seed, 7); XCTAssertFalse(o.dropout)
        // Round trip through the encoder keeps every key.
        XCTAssertEqual(try JSONDecoder().decode(FinetuneSettings.self, from: JSONEncoder().encode(s)), s)
        XCTAssertThrowsError(try JSONDecoder().decode(FinetuneSettings.self, from: Data(#"{"train": "t", "policy": "p", "mode": "lora"}"#.utf8)))
        var bad = s
        bad.batch = 0; bad.lr = -1
        XCTAssertEqual(bad.problems().count, 2, "\(bad.problems())")
    }
}
