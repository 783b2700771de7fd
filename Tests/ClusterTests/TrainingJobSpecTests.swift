@testable import Cluster
import Foundation
import GuardData
import Runtime
import TestHelpers
import Training
import XCTest

/// `kind: pretrain | finetune` job files: every key checked with an error naming it; settings map onto the training
/// options; the corpus is indexed once into the state directory and the blobs describe what workers fetch.
final class TrainingJobSpecTests: XCTestCase {
    private func parse(_ yaml: String, base: String = "/jobs") throws -> TrainingJobSpec {
        try TrainingSpecParser().parse(yaml: yaml, source: "job.yaml", baseDirectory: base)
    }

    /// The error a spec gives, as text (fails the test if it parses).
    private func error(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> JobSpecError? {
        do {
            _ = try parse(yaml)
            XCTFail("accepted: \(yaml)", file: file, line: line)
            return nil
        } catch let e as JobSpecError {
            return e
        } catch {
            XCTFail("not a JobSpecError: \(error)", file: file, line: line)
            return nil
        }
    }

    func testPretrainSettingsMapOntoPretrainOptions() throws {
        let spec = try parse("""
            kind: pretrain
            corpus: data/corpus.jsonl
            base: /models/tiny
            steps: 40
            batch: 8
            lr: 1e-4
            max_length: 64
            seed: 7
            checkpoint_every: 10
            mlm_weight: 0.5
            vat_weight: 0
            cls_weight: 2
            vat_epsilon: 0.2
            workers: 2
            output: out/model
            """)
        XCTAssertEqual(spec.kind, .pretrain)
        XCTAssertEqual(spec.data, "/jobs/data/corpus.jsonl", "relative paths resolve against the job file")
        XCTAssertEqual(spec.output, "/jobs/out/model")
        XCTAssertEqual(spec.base, "/models/tiny")
        XCTAssertEqual(spec.workers, 2)
        var expected = PretrainOptions()
        expected.steps = 40; expected.batch = 8; expected.lr = 1e-4; expected.maxLength = 64; expected.seed = 7
        expected.checkpointEvery = 10; expected.mlmWeight = 0.5; expected.vatWeight = 0; expected.clsWeight = 2; expected.vatEpsilon = 0.2
        XCTAssertEqual(spec.pretrain, expected)
        XCTAssertEqual(spec.batch, 8)
        XCTAssertTrue(expected.clsOnUnmasked && expected.classBalance, "unset keys keep `uniguard pretrain`'s defaults")
        // The objective before issue 13 item 5, by its keys.
        let old = try parse("kind: pretrain\ncorpus: c.jsonl\ncls_on_unmasked: false\nclass_balance: false\n")
        XCTAssertEqual(old.pretrain?.clsOnUnmasked, false)
        XCTAssertEqual(old.pretrain?.classBalance, false)
        XCTAssertThrowsError(try parse("kind: pretrain\ncorpus: c.jsonl\nclass_balance: sometimes\n")) {
            XCTAssertTrue("\($0)".contains("class_balance"), "\($0)")
        }
    }

    func testFinetuneSettingsAreTheTrainOptionsInSnakeCase() throws {
        let spec = try parse("""
            kind: finetune
            train: train.jsonl
            val: val.jsonl
            policy: safety
            epochs: 2
            mode: cft
            input: instruction
            head: cls
            batch: 4
            """)
        XCTAssertEqual(spec.data, "/jobs/train.jsonl")
        XCTAssertEqual(spec.validation, "/jobs/val.jsonl")
        let s = try XCTUnwrap(spec.finetune)
        XCTAssertEqual(s.mode, .cft)
        XCTAssertEqual(s.input, .instruction)
        XCTAssertEqual(s.head, .cls)
        XCTAssertEqual(s.epochs, 2)
        XCTAssertEqual(s.batch, 4)
        XCTAssertEqual(s.maxLength, 128, "the defaults of uniguard train")
        XCTAssertEqual(s.checkpointEvery, 100, "a cluster job checkpoints by default, unlike uniguard train")
        XCTAssertEqual(try parse("kind: finetune\ntrain: t.jsonl\npolicy: p\ncheckpoint_every: 0\n").finetune?.checkpointEvery, 0)
        XCTAssertEqual(s.train, "/jobs/train.jsonl")
        XCTAssertEqual(s.val, "/jobs/val.jsonl")
        // The worker decodes exactly these settings.
        XCTAssertEqual(try JSONDecoder().decode(FinetuneSettings.self, from: JSONEncoder().encode(s)), s)
        XCTAssertEqual(spec.policy, "safety")
        XCTAssertEqual(spec.epochs, 2)
    }

    func testEveryBadKeyIsNamed() {
        let pretrain = "kind: pretrain\ncorpus: c.jsonl\n"
        let cases: [(String, String)] = [
            (pretrain + "stepz: 3", "stepz"),
            (pretrain + "steps: 0", "steps"),
            (pretrain + "steps: -4", "steps"),
            (pretrain + "steps: 2.5", "steps"),
            (pretrain + "steps: many", "steps"),
            (pretrain + "batch: 0", "batch"),
            (pretrain + "lr: 0", "lr"),
            (pretrain + "lr: .nan", "lr"),
            (pretrain + "lr: [1]", "lr"),
            (pretrain + "max_length: 4", "max_length"),
            (pretrain + "mlm_weight: -1", "mlm_weight"),
            (pretrain + "mlm_weight: 0\nvat_weight: 0\ncls_weight: 0", "cls_weight"),
            (pretrain + "vat_epsilon: 0", "vat_epsilon"),
            (pretrain + "mask_rate: 1", "mask_rate"),
            (pretrain + "workers: 0", "workers"),
            (pretrain + "workers: 20\nbatch: 4", "workers"),
            (pretrain + "dropout: maybe", "dropout"),
            (pretrain + "epochs: 2", "epochs"),
            (pretrain + "output: ''", "output"),
            ("kind: pretrain\nsteps: 3", "corpus"),
            ("kind: finetune\ntrain: t.jsonl", "policy"),
            ("kind: finetune\npolicy: p", "train"),
            ("kind: finetune\ntrain: t.jsonl\npolicy: p\nmode: lora", "mode"),
            ("kind: finetune\ntrain: t.jsonl\npolicy: p\nmlm_weight: 1", "mlm_weight"),
            ("kind: finetune\ntrain: t.jsonl\npolicy: p\nwarmup_ratio: 0.1", "warmup_ratio"),
            ("kind: finetune\ntrain: t.jsonl\npolicy: p\nskip_invalid: 3", "skip_invalid"),
            ("kind: train\n", "kind"),
            ("- a\n- b\n", "(document)"),
        ]
        for (yaml, key) in cases {
            XCTAssertEqual(error(yaml)?.key, key, yaml)
        }
        XCTAssertTrue(error(pretrain + "stepz: 3")?.description.contains("unknown key") ?? false)
    }

    /// The corpus is indexed once into the state directory; a bad line is an error naming file:line:field.
    func testPrepareIndexesTheCorpusAndDescribesBlobs() throws {
        let dir = TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try TestSupport.tinyBase(in: dir.appendingPathComponent("base"))
        let lines = (0..<50).map { "{\"text\":\"record \($0)\",\"label\":\"\($0 % 2 == 0 ? "safe" : "unsafe")\",\"policy\":\"p\"}" }
        let corpus = dir.appendingPathComponent("corpus.jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: corpus, atomically: true, encoding: .utf8)
        let spec = try parse("kind: pretrain\ncorpus: corpus.jsonl\nbase: \(base.path)\nsteps: 6\nbatch: 4\nmax_length: 32\n", base: dir.path)
        let state = dir.appendingPathComponent("state").path
        let prepared = try PreparedTraining.prepare(spec, stateDirectory: state)
        XCTAssertEqual(prepared.records, 50)
        XCTAssertEqual(prepared.totalSteps, 6)
        XCTAssertEqual(prepared.data.hash, try SHA256.hexDigest(ofFile: corpus))
        let index = try XCTUnwrap(prepared.index)
        XCTAssertTrue(index.path.hasPrefix(state + "/"), "the index lives in the coordinator's state directory")
        XCTAssertEqual(index.size, 50 * 16)
        XCTAssertEqual(try SHA256.hexDigest(ofFile: index.path), index.hash)
        XCTAssertEqual(try CorpusRangeIndex(path: index.path).count, 50)
        XCTAssertNotNil(prepared.blobPaths[prepared.base.weightsHash])
        XCTAssertEqual(prepared.blobPaths[index.hash]?.path, index.path)
        let options = try JSONDecoder().decode(PretrainOptions.self, from: Data(prepared.settingsJSON.utf8))
        XCTAssertEqual(options.steps, 6)

        // The wire task of rank 1 of 2 from the base model.
        let a = prepared.assignment(taskID: "job-1/gen-1/rank-1", generation: 1, rank: 1, peers: ["a", "b"], startStep: 0,
                                    checkpoint: nil, deadlineUnixMs: 5, rendezvousPrefix: "job-1/gen-1", sharedPaths: false)
        XCTAssertEqual(a.trainStep.ringRank, 1)
        XCTAssertEqual(a.trainStep.ringSize, 2)
        XCTAssertEqual(a.trainStep.endStep, 6)
        XCTAssertEqual(a.trainStep.indexHash, index.hash)
        XCTAssertEqual(a.trainStep.shard.lineCount, 50)
        XCTAssertEqual(a.trainStep.checkpoint.contentHash, prepared.base.weightsHash)
        XCTAssertEqual(a.trainStep.trainingKind, "pretrain")

        // max_length beyond the base model's positions, and a bad corpus line.
        let long = try parse("kind: pretrain\ncorpus: corpus.jsonl\nbase: \(base.path)\nmax_length: 512\n", base: dir.path)
        XCTAssertThrowsError(try PreparedTraining.prepare(long, stateDirectory: state)) { XCTAssertEqual(($0 as? JobSpecError)?.key, "max_length") }
        try (lines[0] + "\n{\"text\":\"x\",\"label\":\"maybe\",\"policy\":\"p\"}\n").write(toFile: corpus, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PreparedTraining.prepare(spec, stateDirectory: state)) {
            XCTAssertTrue("\($0)".contains("corpus.jsonl:2"), "names file:line: \($0)")
        }
        // The export would replace its output: never an input, never a directory that is not a model.
        let overBase = try parse("kind: pretrain\ncorpus: corpus.jsonl\nbase: \(base.path)\nmax_length: 32\noutput: \(base.path)\n", base: dir.path)
        XCTAssertThrowsError(try PreparedTraining.prepare(overBase, stateDirectory: state)) { XCTAssertEqual(($0 as? JobSpecError)?.key, "output") }
        let overState = try parse("kind: pretrain\ncorpus: corpus.jsonl\nbase: \(base.path)\nmax_length: 32\noutput: state\n", base: dir.path)
        XCTAssertThrowsError(try PreparedTraining.prepare(overState, stateDirectory: state)) { XCTAssertEqual(($0 as? JobSpecError)?.key, "output") }
        let missing = try parse("kind: pretrain\ncorpus: nothing.jsonl\nbase: \(base.path)\nmax_length: 32\n", base: dir.path)
        XCTAssertThrowsError(try PreparedTraining.prepare(missing, stateDirectory: state)) { XCTAssertEqual(($0 as? JobSpecError)?.key, "corpus") }
    }

    func testFinetuneStepsAreEpochsTimesBatchesOfThePolicysSamples() throws {
        let dir = TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try TestSupport.tinyBase(in: dir.appendingPathComponent("base"))
        let lines = (0..<30).map { "{\"policy\":\"\($0 < 21 ? "safety" : "prompt_injection")\",\"prompt\":\"p \($0)\",\"label\":\"safe\",\"source\":\"t\"}" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir.appendingPathComponent("train.jsonl").path, atomically: true, encoding: .utf8)
        let spec = try parse("kind: finetune\ntrain: train.jsonl\npolicy: safety\nepochs: 3\nbatch: 4\nmax_length: 32\nbase: \(base.path)\n", base: dir.path)
        let prepared = try PreparedTraining.prepare(spec, stateDirectory: dir.appendingPathComponent("state").path)
        XCTAssertEqual(prepared.records, 21)
        XCTAssertEqual(prepared.totalSteps, 3 * 6, "3 epochs x ceil(21 / 4)")
        let settings = try JSONDecoder().decode(FinetuneSettings.self, from: Data(prepared.settingsJSON.utf8))
        XCTAssertEqual(settings.policy, "safety")
        XCTAssertEqual(settings.batch, 4)
        XCTAssertEqual(settings.epochs, 3)
        // A policy of the pack without samples, and one the pack does not have.
        let none = try parse("kind: finetune\ntrain: train.jsonl\npolicy: toxicity\nbase: \(base.path)\nmax_length: 32\n", base: dir.path)
        XCTAssertThrowsError(try PreparedTraining.prepare(none, stateDirectory: dir.path)) { XCTAssertEqual(($0 as? JobSpecError)?.key, "policy") }
        let unknown = try parse("kind: finetune\ntrain: train.jsonl\npolicy: nobody\nbase: \(base.path)\nmax_length: 32\n", base: dir.path)
        XCTAssertThrowsError(try PreparedTraining.prepare(unknown, stateDirectory: dir.path)) {
            XCTAssertEqual(($0 as? JobSpecError)?.key, "policy")
            XCTAssertTrue("\($0)".contains("nobody"), "\($0)")
        }
    }
}
