@testable import EncoderModel
import Foundation
import TestHelpers
@testable import Training
import XCTest

/// Forward, loss, every gradient and one AdamW step against PyTorch/transformers on the tiny BERT cases.
final class BackwardFixtureTests: XCTestCase {
    func testMeanPoolCrossEntropyCase() throws {
        let fx = try TinyBertCase("case_mean_ce")
        try check(fx, pooler: false, extra: ClassificationHead.specs(hidden: fx.config.hiddenSize, outputs: 2),
                  labels: try fx.int32s("labels")) { try ClassificationHead.meanPoolCrossEntropy(config: $0, params: $1) }
    }

    func testMeanPoolBinaryCrossEntropyCase() throws {
        let fx = try TinyBertCase("case_mean_bce")
        try check(fx, pooler: false, extra: ClassificationHead.specs(hidden: fx.config.hiddenSize, outputs: 1),
                  labels: try fx.int32s("labels")) { try ClassificationHead.meanPoolBinary(config: $0, params: $1) }
    }

    func testBertForSequenceClassificationCase() throws {
        let fx = try TinyBertCase("case_hf_seqcls")
        try check(fx, pooler: true, extra: ClassificationHead.specs(hidden: fx.config.hiddenSize, outputs: 2),
                  labels: try fx.int32s("labels")) { try ClassificationHead.sequenceClassification(config: $0, params: $1) }
    }

    func testMaskedLMCaseWithTiedDecoder() throws {
        let fx = try TinyBertCase("case_mlm")
        try check(fx, pooler: false, extra: MaskedLMHead.specs(fx.config), labels: try fx.int32s("mlm_labels")) { c, s in
            let h = try MaskedLMHead(config: c, params: s)
            h.allPositions = true  // the fixture holds logits for every token
            return h
        }
    }

    /// Runs one case end to end and asserts every tolerance; prints the worst errors.
    private func check(_ fx: TinyBertCase, pooler: Bool, extra: [(name: String, shape: [Int])], labels: [Int32],
                       makeHead: (BertConfig, ParameterStore) throws -> TrainingHead) throws {
        let c = fx.config
        let store = try fx.store(specs: EncoderNames.specs(c, pooler: pooler) + extra)
        let encoder = try BertEncoder(config: c, params: store)
        let head = try makeHead(c, store)
        let ws = EncoderWorkspace(config: c, training: true)
        let hidden = try encoder.forward(fx.batch, workspace: ws)
        let loss = try head.forward(hidden: hidden, batch: fx.batch, labels: labels, dropout: nil)

        let expLogits = try fx.file.tensor("logits")
        XCTAssertEqual(head.logits.count, expLogits.count)
        let logitErr = Compare.maxAbs(head.logits.baseAddress!, expLogits.data, count: min(head.logits.count, expLogits.count))
        XCTAssertLessThan(logitErr, 1e-5, "logits max abs error")
        let expLoss = try fx.file.tensor("loss").data[0]
        XCTAssertEqual(loss, expLoss, accuracy: 1e-5 * max(1, abs(expLoss)), "loss")

        let grads = store.makeLike()
        let gw = EncoderGradientWorkspace(config: c)
        gw.prepare(for: ws)
        head.backward(batch: fx.batch, grads: grads, dHidden: gw.dHidden.data)
        encoder.backward(fx.batch, workspace: ws, gradients: gw, into: grads)

        let gradNames = fx.names("grad.")
        XCTAssertEqual(Set(gradNames), Set(store.slots.map(\.name)), "the case's gradients and our parameters differ")
        // Key biases get an analytically zero gradient (softmax ignores a per-query shift), so their reference
        // is float noise (~1e-12): the scale is floored at 1e-6 of the case's largest gradient.
        var largest: Float = 0
        for name in gradNames {
            let e = try fx.file.tensor(fx.stored("grad.", name))
            for i in 0..<e.count { largest = max(largest, abs(e.data[i])) }
        }
        var worstGrad: (Float, String) = (0, "")
        for name in gradNames {
            let slot = try XCTUnwrap(store.slot(name), name)
            let exp = try fx.file.tensor(fx.stored("grad.", name), shape: slot.shape)
            let err = Compare.relativeToMax(grads.data + slot.offset, exp.data, count: slot.count, floor: 1e-6 * largest)
            XCTAssertLessThan(err, 1e-4, "gradient of \(name), relative to its max magnitude")
            if err > worstGrad.0 { worstGrad = (err, name) }
        }

        var worstStep: (Float, String) = (0, "")
        let stepNames = fx.names("adamw.")
        if !stepNames.isEmpty {
            XCTAssertEqual(Set(stepNames), Set(store.slots.map(\.name)))
            let opt = AdamW(params: store, weightDecay: 0.01)
            opt.step(grads: grads, lr: 1e-2)
            for name in stepNames {
                let slot = try XCTUnwrap(store.slot(name), name)
                let exp = try fx.file.tensor(fx.stored("adamw.", name), shape: slot.shape)
                // Adam's first step is lr·g/(|g| + eps): where |g| is near eps it amplifies the 1e-7-level
                // gradient differences, so allow 1% of a step (AdamWTests checks the optimizer itself to 1e-7).
                let err = Compare.maxAbs(store.values.data + slot.offset, exp.data, count: slot.count)
                XCTAssertLessThan(err, 1e-4, "parameters of \(name) after one AdamW step")
                if err > worstStep.0 { worstStep = (err, name) }
            }
        }
        let name = URL(fileURLWithPath: fx.file.path).deletingPathExtension().lastPathComponent
        print("[\(name)] loss \(loss) (expected \(expLoss)); logits max abs err \(logitErr); worst gradient err \(worstGrad.0) (\(worstGrad.1)) over \(gradNames.count) tensors; worst AdamW param abs err \(worstStep.0) (\(worstStep.1)) over \(stepNames.count) tensors")
    }
}
