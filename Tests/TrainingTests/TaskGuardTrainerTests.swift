@testable import EncoderModel
@testable import Guards
@testable import Runtime
import TestHelpers
@testable import Training
import XCTest

/// TaskGuard training on the tiny BERT: learning, CFT freezing, save/load, non-finite loss handling.
final class TaskGuardTrainerTests: XCTestCase {
    static let safeWords = TestSupport.safeWords
    static let unsafeWords = TestSupport.unsafeWords

    static func data(_ n: Int, seed: UInt64) -> [TaskGuardTrainer.Example] { TestSupport.tinyExamples(n, seed: seed) }

    func model(_ base: URL) throws -> GuardModel {
        try GuardModel.fromBase(base, metadata: GuardMetadata(policy: "t", instruction: "test policy", inputFormat: .prompt, head: .mean, maxLength: 16), seed: 1)
    }

    func testFullFineTuningLearnsAndSavedModelScoresIdentically() throws {
        let base = try TestSupport.tinyBase()
        let m = try model(base)
        var o = TrainingOptions()
        o.epochs = 8; o.batch = 8; o.lr = 3e-3; o.warmupRatio = 0
        let val = Self.data(40, seed: 9).map { (text: $0.text, unsafe: $0.label == 1) }
        let summaries = try TaskGuardTrainer(model: m, options: o).train(Self.data(64, seed: 3), validation: val)
        XCTAssertLessThan(summaries.last!.trainLoss, summaries.first!.trainLoss * 0.5, "loss should fall")
        XCTAssertGreaterThan(summaries.last!.validation!.f1, 0.95)

        let out = TestSupport.tempDir().appendingPathComponent("guard")
        try m.save(to: out)
        let loaded = try GuardModel.load(out)
        XCTAssertEqual(loaded.metadata.policy, "t")
        let texts = val.map(\.text)
        let a = try m.scores(inputs: texts), b = try loaded.scores(inputs: texts)
        for i in a.indices { XCTAssertEqual(a[i], b[i], accuracy: 1e-6) }
        // transformers' encoder names on disk; the mean-pooling head under a name BertForSequenceClassification does
        // not look for (it would pool [CLS] and score differently, so it must not pick our weights up silently).
        let file = try SafetensorsFile(path: out.appendingPathComponent("model.safetensors").path)
        XCTAssertTrue(file.contains("bert.encoder.layer.0.attention.self.query.weight"))
        XCTAssertEqual(loaded.metadata.head, .mean)
        XCTAssertTrue(file.contains("mean_pooling.classifier.weight") && file.contains("mean_pooling.classifier.bias"))
        XCTAssertFalse(file.contains("classifier.weight") || file.contains("classifier.bias"))
    }

    func testClassifierOnlyTrainingLeavesTheEncoderUntouched() throws {
        let m = try model(try TestSupport.tinyBase())
        let before = m.params.values.array
        var o = TrainingOptions()
        o.mode = .cft; o.epochs = 2; o.batch = 8; o.lr = 1e-2
        try TaskGuardTrainer(model: m, options: o).train(Self.data(32, seed: 4))
        let after = m.params.values.array
        var movedHead = false
        for s in m.params.slots {
            let changed = (s.offset..<(s.offset + s.count)).contains { before[$0] != after[$0] }
            if s.name.hasPrefix("classifier.") { movedHead = movedHead || changed } else { XCTAssertFalse(changed, "\(s.name) moved under CFT") }
        }
        XCTAssertTrue(movedHead)
    }

    func testExplodingLossStopsWithAClearError() throws {
        let m = try model(try TestSupport.tinyBase())
        var o = TrainingOptions()
        o.epochs = 3; o.batch = 8; o.lr = 1e30; o.warmupRatio = 0; o.maxGradNorm = 1e30
        XCTAssertThrowsError(try TaskGuardTrainer(model: m, options: o).train(Self.data(64, seed: 5))) { e in
            XCTAssertTrue("\(e)".contains("NaN"), "\(e)")
            XCTAssertTrue("\(e)".contains("Lower --lr"), "\(e)")
        }
    }

    func testLoadingADirectoryWithoutMetadataNamesTheFile() throws {
        XCTAssertThrowsError(try GuardModel.load(try TestSupport.tinyBase())) { e in XCTAssertTrue("\(e)".contains("uniguard.json"), "\(e)") }
    }
}
