import EncoderModel
import Foundation
@testable import Guards
import Runtime
import TestHelpers
import XCTest

/// A guard never reports NaN, never loads or writes broken weights, keeps the prompt when the instruction is too
/// long, and says in config.json which head it has.
final class GuardModelSafetyTests: XCTestCase {
    func model(format: GuardMetadata.InputFormat = .prompt, instruction: String = "", maxLength: Int = 32) throws -> GuardModel {
        let meta = GuardMetadata(policy: "p", instruction: instruction, inputFormat: format, head: .mean, maxLength: maxLength,
                                 baseModelSHA256: nil, recipe: nil)
        return try GuardModel.fromBase(try TestSupport.tinyBase(), metadata: meta, seed: 3)
    }

    func poison(_ m: GuardModel) {
        let slot = m.params.slot(HeadNames.classifierWeight)!
        m.params.values.data[slot.offset] = .nan
    }

    func testANaNScoreIsAnErrorNotAValue() throws {
        let m = try model()
        XCTAssertEqual(try m.scores(inputs: ["bread garden"]).count, 1)
        poison(m)
        XCTAssertThrowsError(try m.scores(inputs: ["bread garden", "ignore bypass"])) { error in
            XCTAssertEqual((error as? NonFiniteScore)?.index, 0, "\(error)")
        }
        XCTAssertThrowsError(try Evaluator(model: m).evaluate([("bread", false), ("leak", true)], perSampleLatency: true)) { error in
            XCTAssertEqual((error as? NonFiniteScore)?.index, 0, "\(error)")
        }
    }

    func testNaNWeightsAreNeitherWrittenNorLoaded() throws {
        let m = try model(), dir = TestSupport.tempDir().appendingPathComponent("guard")
        try m.save(to: dir)
        let good = try Data(contentsOf: dir.appendingPathComponent("model.safetensors"))
        poison(m)
        XCTAssertThrowsError(try m.save(to: dir)) { XCTAssertTrue("\($0)".contains("not writing the model"), "\($0)") }
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("model.safetensors")), good, "the previous model is intact")

        // Weights broken on disk (written by something else) are refused at load, naming the file and tensor.
        try m.params.save(to: dir.appendingPathComponent("model.safetensors").path, rename: { HeadNames.transformers($0) })
        XCTAssertThrowsError(try GuardModel.load(dir)) { error in
            XCTAssertTrue("\(error)".contains("model.safetensors") && "\(error)".contains("classifier.weight") && "\(error)".contains("nan"), "\(error)")
        }
    }

    func testALongInstructionIsCutNeverThePrompt() throws {
        let instruction = Array(repeating: "music river chess coffee", count: 20).joined(separator: " ")
        let m = try model(format: .instruction, instruction: instruction, maxLength: 24)
        let warnings = Guarded<[String]>([])
        m.onInstructionShortened = { message in warnings.withLock { $0.append(message) } }
        let prompt = "ignore bypass leak exploit"
        let input = m.input(for: prompt)
        XCTAssertTrue(input.hasSuffix("Query: " + prompt), input)
        let ids = m.tokenizer.encode(input, maxLength: nil).ids
        XCTAssertLessThanOrEqual(ids.count, 24)
        let promptIDs = m.tokenizer.encode(prompt, maxLength: nil).ids.dropFirst().dropLast()
        XCTAssertEqual(Array(ids.dropLast().suffix(promptIDs.count)), Array(promptIDs), "the prompt's tokens are all read")
        _ = m.input(for: "reveal disable")
        XCTAssertEqual(warnings.value.count, 1, "warned once")
        // A short instruction is left alone.
        let short = try model(format: .instruction, instruction: "music", maxLength: 24)
        XCTAssertEqual(short.input(for: prompt), "Instruct: music [SEP] Query: " + prompt)
    }

    func testConfigNamesTheHeadTransformersWouldLoad() throws {
        let dir = TestSupport.tempDir().appendingPathComponent("guard")
        try model().save(to: dir)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as? [String: Any]
        XCTAssertEqual(config?["architectures"] as? [String], ["UniGuardMeanPoolingClassifier"],
                       "a mean-pooling head must not claim to be BertForSequenceClassification, which pools [CLS]")
        XCTAssertEqual(config?["model_type"] as? String, "bert")
        XCTAssertEqual(GuardModel.architecture(.cls), "BertForSequenceClassification")
        XCTAssertEqual(try GuardModel.load(dir).metadata.head, .mean, "our own loader reads it back")
    }
}
