@testable import EncoderModel
import Foundation
@testable import Runtime
import TestHelpers
@testable import Tokenizers
import XCTest

/// RoBERTa and XLM-R (multilingual E5) model directories: config, position ids, the forward pass against
/// transformers' RobertaModel / XLMRobertaModel on the tiny fixtures, and the position table's gradient.
final class RobertaFamilyTests: XCTestCase {
    func testConfigOfTheRobertaFamily() throws {
        for (model, type) in [("tiny_roberta", "roberta"), ("tiny_xlmr", "xlm-roberta")] {
            let c = try BertConfig.load(from: TestSupport.fixture("\(model)/config.json"))
            XCTAssertEqual(c.modelType, type)
            XCTAssertTrue(c.paddingOffsetPositions, model)
            XCTAssertEqual(c.weightPrefix, "roberta.", model)
            XCTAssertEqual(c.padTokenId, 1)
            XCTAssertEqual(c.typeVocabSize, 1)
            XCTAssertEqual(c.maxPositions, 130)
            XCTAssertEqual(c.maxSequenceLength, 128, "130 positions minus pad id 1 minus the pad row itself")
        }
        let bert = try BertConfig.load(from: TestSupport.fixture("tiny_bert/config.json"))
        XCTAssertFalse(bert.paddingOffsetPositions)
        XCTAssertEqual(bert.weightPrefix, "bert.")
        XCTAssertEqual(bert.maxSequenceLength, bert.maxPositions)
    }

    func testConfigWhosePadIdLeavesNoPositionIsRejected() throws {
        let dir = TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        var obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: TestSupport.fixture("tiny_roberta/config.json"))) as? [String: Any])
        obj["max_position_embeddings"] = 2
        try JSONSerialization.data(withJSONObject: obj).write(to: url)
        XCTAssertThrowsError(try BertConfig.load(from: url)) { e in
            XCTAssertTrue("\(e)".contains("pad_token_id") && "\(e)".contains(url.path), "\(e)")
        }
    }

    func testPositionIdsFollowTransformersCreatePositionIds() throws {
        let roberta = try BertConfig.load(from: TestSupport.fixture("tiny_roberta/config.json"))
        // Row 0 full, row 1 right-padded, row 2 holds the pad id inside the text (transformers goes by ids).
        let batch = TokenBatch(batch: 3, seqLen: 5, ids: [0, 7, 8, 9, 2, 0, 7, 2, 1, 1, 0, 1, 8, 2, 1],
                               mask: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0],
                               typeIds: [Int32](repeating: 0, count: 15), lengths: [5, 3, 4])
        XCTAssertEqual(PositionIds.of(batch, config: roberta), [2, 3, 4, 5, 6, 2, 3, 4, 1, 1, 2, 1, 3, 4, 1])
        let bert = try BertConfig.load(from: TestSupport.fixture("tiny_bert/config.json"))
        XCTAssertEqual(PositionIds.of(batch, config: bert), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    }

    /// Forward of `model` on its `case_forward.safetensors`; returns the max abs errors (hidden, pooled).
    func forwardErrors(_ model: String) throws -> (hidden: Float, pooled: Float) {
        let dir = try ModelDirectory(TestSupport.fixture(model))
        let encoder = try dir.loadEncoder()
        XCTAssertFalse(encoder.hasPooler, "\(model) has no pooler")
        let fx = try SafetensorsFile(url: TestSupport.fixture("\(model)/case_forward.safetensors"))
        let ids = try fx.int64s("input_ids"), mask = try fx.int64s("attention_mask")
        let shape = try XCTUnwrap(fx.entry("input_ids")).shape
        let (b, t, h) = (shape[0], shape[1], dir.config.hiddenSize)
        // The fixture's ids are what our tokenizer makes of its texts (padded with the pad id).
        let texts = try JSONDecoder().decode([String].self, from: Data(try XCTUnwrap(fx.metadata["texts"]).utf8))
        let tokenizer = try TokenizerLoader.load(directory: dir.url)
        let ours = tokenizer.batch(texts, maxLength: t)
        XCTAssertEqual(ours.seqLen, t, model)
        XCTAssertEqual(ours.ids, ids.map { Int32($0) }, "\(model): tokenizer ids of the forward batch")
        let batch = TokenBatch(batch: b, seqLen: t, ids: ids.map { Int32($0) }, mask: mask.map { Float($0) },
                               typeIds: [Int32](repeating: 0, count: b * t), lengths: [])
        let ws = EncoderWorkspace(config: dir.config, training: false)
        let hidden = try encoder.forward(batch, workspace: ws)
        let expected = try fx.tensor("last_hidden_state")
        var worst: Float = 0
        for i in 0..<(b * t * h) { worst = max(worst, abs(hidden[i] - expected.data[i])) }
        let pooled = Tensor(zeros: [b, h])
        Pooling.mean(hidden, mask: batch.mask, batch: b, seqLen: t, hidden: h, into: pooled.data)
        let expPooled = try fx.tensor("mean_pooled")
        var worstPooled: Float = 0
        for i in 0..<(b * h) { worstPooled = max(worstPooled, abs(pooled.data[i] - expPooled.data[i])) }
        withExtendedLifetime(ws) {}  // `hidden` points into it
        print("[\(model) forward] max abs diff last_hidden_state \(worst), mean_pooled \(worstPooled)")
        return (worst, worstPooled)
    }

    func testTinyRobertaMatchesTransformersWithin1e5() throws {
        let e = try forwardErrors("tiny_roberta")
        XCTAssertLessThan(e.hidden, 1e-5, "last_hidden_state")
        XCTAssertLessThan(e.pooled, 1e-5, "mean_pooled")
    }

    func testTinyXLMRMatchesTransformersWithin1e5() throws {
        let e = try forwardErrors("tiny_xlmr")
        XCTAssertLessThan(e.hidden, 1e-5, "last_hidden_state")
        XCTAssertLessThan(e.pooled, 1e-5, "mean_pooled")
    }

    /// The old BERT numbering (0..<T) on a RoBERTa checkpoint is far off the reference: the test above can fail.
    func testBertPositionsOnARobertaCheckpointAreWrong() throws {
        let dir = try ModelDirectory(TestSupport.fixture("tiny_roberta"))
        var asBert = dir.config
        asBert.modelType = "bert"
        let store = try dir.loadEncoder().params
        let encoder = try BertEncoder(config: asBert, params: store)
        let fx = try SafetensorsFile(url: TestSupport.fixture("tiny_roberta/case_forward.safetensors"))
        let ids = try fx.int64s("input_ids"), mask = try fx.int64s("attention_mask")
        let shape = try XCTUnwrap(fx.entry("input_ids")).shape
        let batch = TokenBatch(batch: shape[0], seqLen: shape[1], ids: ids.map { Int32($0) }, mask: mask.map { Float($0) },
                               typeIds: [Int32](repeating: 0, count: ids.count), lengths: [])
        let ws = EncoderWorkspace(config: asBert, training: false)
        let hidden = try encoder.forward(batch, workspace: ws)
        let expected = try fx.tensor("last_hidden_state")
        var worst: Float = 0
        for i in 0..<expected.count { worst = max(worst, abs(hidden[i] - expected.data[i])) }
        withExtendedLifetime(ws) {}  // `hidden` points into it
        XCTAssertGreaterThan(worst, 1e-2)
    }

    /// A RoBERTa-family MLM head is saved under RobertaForMaskedLM's `lm_head.*` names and read back from them.
    func testMaskedLMHeadUsesRobertaNames() throws {
        let c = Self.config
        let store = Self.randomStore(c, extra: MaskedLMHead.specs(c))
        let dir = TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.safetensors").path
        try store.save(to: path, rename: { HeadNames.transformers($0, prefix: c.weightPrefix) })
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(Set(file.names.filter { !$0.hasPrefix("roberta.") }),
                       ["lm_head.dense.weight", "lm_head.dense.bias", "lm_head.layer_norm.weight", "lm_head.layer_norm.bias", "lm_head.bias"])
        let back = ParameterStore(specs: store.slots.map { ($0.name, $0.shape) })
        try back.load(from: file)
        XCTAssertEqual(back.values.array, store.values.array)
    }

    // MARK: - Position-table gradient

    static let config = BertConfig(modelType: "roberta", vocabSize: 20, hiddenSize: 8, numLayers: 2, numHeads: 2,
                                   intermediateSize: 16, maxPositions: 9, typeVocabSize: 1, padTokenId: 1,
                                   hiddenDropout: 0, attentionDropout: 0)
    /// Row 0 full (positions 2...7), row 1 right-padded, row 2 with the pad id inside (which reads the pad row).
    static let batch = TokenBatch(batch: 3, seqLen: 6,
                                  ids: [0, 7, 11, 5, 3, 2, 0, 9, 4, 2, 1, 1, 0, 13, 1, 17, 2, 1],
                                  mask: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0],
                                  typeIds: [Int32](repeating: 0, count: 18), lengths: [6, 4, 5])

    static func randomStore(_ c: BertConfig, extra: [(name: String, shape: [Int])]) -> ParameterStore {
        let store = ParameterStore(specs: EncoderNames.specs(c, pooler: false) + extra)
        var rng = RandomSource(seed: 4321)
        for s in store.slots {
            let p = store.values.data + s.offset
            if s.name.contains("LayerNorm.weight") { for i in 0..<s.count { p[i] = 1 + 0.2 * rng.nextNormal() } }
            else { rng.fillNormal(p, count: s.count, std: s.name.hasSuffix(".bias") ? 0.1 : 0.4) }
        }
        return store
    }

    /// Loss and analytic gradients of a mean-pool classifier on `batch` under config `c` with `store`.
    static func lossAndGradients(_ c: BertConfig, _ store: ParameterStore, _ batch: TokenBatch,
                                 labels: [Int32]) throws -> (loss: () throws -> Float, grads: Tensor) {
        let head = try ClassificationHead.meanPoolCrossEntropy(config: c, params: store)
        let encoder = try BertEncoder(config: c, params: store)
        let ws = EncoderWorkspace(config: c, training: true)
        func loss() throws -> Float {
            try head.forward(hidden: try encoder.forward(batch, workspace: ws), batch: batch, labels: labels, dropout: nil)
        }
        _ = try loss()
        let grads = store.makeLike(), gw = EncoderGradientWorkspace(config: c)
        gw.prepare(for: ws)
        head.backward(batch: batch, grads: grads, dHidden: gw.dHidden.data)
        encoder.backward(batch, workspace: ws, gradients: gw, into: grads)
        return (loss, grads)
    }

    /// Every element of the position table against central finite differences: the rows the batch reads get
    /// their gradient, the pad row (padding_idx) and unread rows get exactly zero.
    func testPositionGradientMatchesFiniteDifferences() throws {
        let c = Self.config, h = c.hiddenSize
        let store = Self.randomStore(c, extra: ClassificationHead.specs(hidden: h, outputs: 2))
        let (loss, grads) = try Self.lossAndGradients(c, store, Self.batch, labels: [1, 0, 1])
        let base = store.offset(EncoderNames.position), p = store.values.data, eps: Float = 3e-3
        var worst: Float = 0, scale: Float = 0
        for i in 0..<(c.maxPositions * h) {
            let old = p[base + i]
            p[base + i] = old + eps; let up = try loss()
            p[base + i] = old - eps; let down = try loss()
            p[base + i] = old
            let row = i / h, analytic = grads.data[base + i]
            if row == c.padTokenId || row == 0 || row == 8 {
                XCTAssertEqual(analytic, 0, "position row \(row) is never read by a real token")
            } else {
                worst = max(worst, abs((up - down) / (2 * eps) - analytic)); scale = max(scale, abs(analytic))
            }
        }
        XCTAssertGreaterThan(scale, 1e-4)
        XCTAssertLessThan(worst / scale, 1e-2, "position gradient vs finite differences")
        print("[gradcheck roberta positions] worst |fd − analytic| / max|analytic| = \(worst / scale)")
    }

    /// On unpadded rows, a RoBERTa model equals a BERT model whose position table is the RoBERTa one shifted by
    /// pad + 1 rows; so must every gradient be, with the position rows shifted the same way.
    func testPositionGradientEqualsTheShiftedBertPath() throws {
        let c = Self.config, h = c.hiddenSize, shift = c.padTokenId + 1
        let t = c.maxSequenceLength
        let batch = TokenBatch(batch: 2, seqLen: t, ids: [0, 7, 11, 5, 3, 9, 2, 0, 13, 17, 4, 6, 8, 2],
                               mask: [Float](repeating: 1, count: 2 * t), typeIds: [Int32](repeating: 0, count: 2 * t), lengths: [t, t])
        let extra = ClassificationHead.specs(hidden: h, outputs: 2)
        let store = Self.randomStore(c, extra: extra)
        var bertConfig = c
        bertConfig.modelType = "bert"
        let bertStore = ParameterStore(specs: store.slots.map { ($0.name, $0.shape) })
        bertStore.values.data.update(from: store.values.data, count: store.count)
        let pos = store.offset(EncoderNames.position)
        // BERT row r = RoBERTa row r + shift; the last `shift` BERT rows are unused filler.
        bertStore.values.data.advanced(by: pos).update(from: store.values.data + pos + shift * h, count: t * h)
        let roberta = try Self.lossAndGradients(c, store, batch, labels: [1, 0])
        let bert = try Self.lossAndGradients(bertConfig, bertStore, batch, labels: [1, 0])
        XCTAssertEqual(try roberta.loss(), try bert.loss(), accuracy: 1e-6)
        var worst: Float = 0
        for i in 0..<store.count where i < pos || i >= pos + c.maxPositions * h {
            worst = max(worst, abs(roberta.grads.data[i] - bert.grads.data[i]))
        }
        for i in 0..<(t * h) { worst = max(worst, abs(roberta.grads.data[pos + shift * h + i] - bert.grads.data[pos + i])) }
        for i in 0..<(shift * h) { XCTAssertEqual(roberta.grads.data[pos + i], 0, "rows up to the pad id get no gradient") }
        XCTAssertLessThan(worst, 1e-6, "RoBERTa gradients vs the shifted BERT path")
    }

    func testSequenceLongerThanThePositionsAllowIsRefused() throws {
        let c = Self.config
        let encoder = try BertEncoder(config: c, params: Self.randomStore(c, extra: []))
        let n = c.maxSequenceLength + 1
        let long = TokenBatch(batch: 1, seqLen: n, ids: [Int32](repeating: 5, count: n), mask: [Float](repeating: 1, count: n),
                              typeIds: [Int32](repeating: 0, count: n), lengths: [n])
        XCTAssertThrowsError(try encoder.forward(long, workspace: EncoderWorkspace(config: c, training: false))) { e in
            XCTAssertTrue("\(e)".contains("exceeds the model's \(c.maxSequenceLength) positions"), "\(e)")
        }
    }
}
