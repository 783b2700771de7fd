@testable import EncoderModel
import TestHelpers
@testable import Tokenizers
import XCTest

/// The MiniLM forward pass against PyTorch/transformers ground truth.
final class EncoderForwardTests: XCTestCase {
    func testMiniLMMatchesTransformersWithin1e4() throws {
        let model = try ModelDirectory(try TestSupport.baseModel())
        let encoder = try model.loadEncoder()
        let fx = try SafetensorsFile(url: TestSupport.fixture("minilm_forward.safetensors"))
        let ids = try fx.int64s("input_ids"), mask = try fx.int64s("attention_mask")
        let shape = fx.entry("input_ids")!.shape
        let (b, t) = (shape[0], shape[1])
        let batch = TokenBatch(batch: b, seqLen: t, ids: ids.map { Int32($0) }, mask: mask.map { Float($0) },
                               typeIds: [Int32](repeating: 0, count: b * t), lengths: [])
        let ws = EncoderWorkspace(config: model.config, training: false)
        let hidden = try encoder.forward(batch, workspace: ws)
        let h = model.config.hiddenSize
        let expected = try fx.tensor("last_hidden_state")
        var worst: Float = 0
        for i in 0..<(b * t * h) { worst = max(worst, abs(hidden[i] - expected.data[i])) }
        XCTAssertLessThan(worst, 1e-4, "last_hidden_state max abs error")

        let pooled = Tensor(zeros: [b, h])
        Pooling.mean(hidden, mask: batch.mask, batch: b, seqLen: t, hidden: h, into: pooled.data)
        let expPooled = try fx.tensor("mean_pooled")
        var worstPooled: Float = 0
        for i in 0..<(b * h) { worstPooled = max(worstPooled, abs(pooled.data[i] - expPooled.data[i])) }
        XCTAssertLessThan(worstPooled, 1e-4, "mean_pooled max abs error")

        Pooling.l2Normalize(pooled.data, rows: b, cols: h)
        let expEmb = try fx.tensor("sentence_embedding")
        var worstEmb: Float = 0
        for i in 0..<(b * h) { worstEmb = max(worstEmb, abs(pooled.data[i] - expEmb.data[i])) }
        XCTAssertLessThan(worstEmb, 1e-4, "sentence_embedding max abs error")
    }

    func testForwardIsIndependentOfBatchCompanionsAndPadding() throws {
        // A row's output must not change when other rows (and so the padded length) change.
        let model = try ModelDirectory(try TestSupport.baseModel())
        let encoder = try model.loadEncoder()
        let fx = try SafetensorsFile(url: TestSupport.fixture("minilm_forward.safetensors"))
        let ids = try fx.int64s("input_ids"), mask = try fx.int64s("attention_mask")
        let t = fx.entry("input_ids")!.shape[1]
        let len = Int(mask[0..<t].reduce(0, +))
        let single = TokenBatch(batch: 1, seqLen: len, ids: ids[0..<len].map { Int32($0) }, mask: [Float](repeating: 1, count: len),
                                typeIds: [Int32](repeating: 0, count: len), lengths: [len])
        let ws = EncoderWorkspace(config: model.config, training: false)
        let out = try encoder.forward(single, workspace: ws)
        let expected = try fx.tensor("last_hidden_state")
        for i in 0..<(len * 384) { XCTAssertEqual(out[i], expected.data[i], accuracy: 1e-4) }
    }

    func testRejectsOutOfVocabularyIds() throws {
        let c = BertConfig(vocabSize: 10, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxPositions: 8)
        let store = ParameterStore(specs: EncoderNames.specs(c, pooler: false))
        let enc = try BertEncoder(config: c, params: store)
        let batch = TokenBatch(batch: 1, seqLen: 2, ids: [1, 42], mask: [1, 1], typeIds: [0, 0], lengths: [2])
        XCTAssertThrowsError(try enc.forward(batch, workspace: EncoderWorkspace(config: c, training: false))) { e in
            XCTAssertTrue("\(e)".contains("outside the vocabulary"), "\(e)")
        }
        let long = TokenBatch(batch: 1, seqLen: 9, ids: [Int32](repeating: 1, count: 9), mask: [Float](repeating: 1, count: 9),
                              typeIds: [Int32](repeating: 0, count: 9), lengths: [9])
        XCTAssertThrowsError(try enc.forward(long, workspace: EncoderWorkspace(config: c, training: false)))
    }
}
