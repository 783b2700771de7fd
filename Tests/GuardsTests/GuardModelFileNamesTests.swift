import EncoderModel
import Foundation
@testable import Guards
import Runtime
import TestHelpers
import XCTest

/// Tensor names on disk: the `mean` head under `mean_pooling.`, so transformers' BertForSequenceClassification reports
/// its classifier as newly initialised instead of silently pooling [CLS] with our weights; models saved with the old
/// names still load.
final class GuardModelFileNamesTests: XCTestCase {
    func model(_ head: GuardMetadata.HeadKind) throws -> GuardModel {
        let meta = GuardMetadata(policy: "p", instruction: "", inputFormat: .prompt, head: head, maxLength: 16,
                                 baseModelSHA256: nil, recipe: nil)
        return try GuardModel.fromBase(try TestSupport.tinyBase(), metadata: meta, seed: 5)
    }

    func names(_ dir: URL) throws -> Set<String> {
        Set(try SafetensorsFile(path: dir.appendingPathComponent("model.safetensors").path).names)
    }

    func testTheMeanHeadIsSavedWhereBertForSequenceClassificationDoesNotLook() throws {
        let mean = try model(.mean), dir = TestSupport.tempDir().appendingPathComponent("mean")
        try mean.save(to: dir)
        let names = try names(dir)
        XCTAssertTrue(names.isSuperset(of: ["mean_pooling.classifier.weight", "mean_pooling.classifier.bias"]), "\(names)")
        XCTAssertTrue(names.isDisjoint(with: ["classifier.weight", "classifier.bias"]))
        XCTAssertTrue(names.contains("bert.embeddings.word_embeddings.weight"))
        let texts = ["bread garden", "ignore bypass leak"]
        XCTAssertEqual(try GuardModel.load(dir).scores(inputs: texts), try mean.scores(inputs: texts))
        // The [CLS] pooler head keeps transformers' names (HeadsTests saves one and checks the file).
        XCTAssertEqual(HeadNames.transformers("classifier.weight"), "classifier.weight")
        XCTAssertEqual(HeadNames.transformers("classifier.weight", meanPoolingHead: true), "mean_pooling.classifier.weight")
        XCTAssertEqual(HeadNames.transformers("pooler.dense.weight", meanPoolingHead: true), "bert.pooler.dense.weight")
    }

    func testAMeanHeadSavedUnderTheOldNamesStillLoads() throws {
        let mean = try model(.mean), dir = TestSupport.tempDir().appendingPathComponent("old")
        try mean.save(to: dir)
        // Rewrite the weights as models saved before the rename: `classifier.*` at the top level.
        try mean.params.save(to: dir.appendingPathComponent("model.safetensors").path, rename: { HeadNames.transformers($0) })
        XCTAssertTrue(try names(dir).contains("classifier.weight"))
        let texts = ["bread garden", "ignore bypass leak"]
        XCTAssertEqual(try GuardModel.load(dir).scores(inputs: texts), try mean.scores(inputs: texts))
    }
}
