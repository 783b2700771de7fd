@testable import EncoderModel
import Foundation
import TestHelpers
import XCTest

/// Head naming, initialisation, label checks and loss conventions (gradients: BackwardFixture/GradientCheck tests).
final class HeadsTests: XCTestCase {
    private let c = BackwardGradientCheckTests.config
    private let batch = BackwardGradientCheckTests.batch

    func testTransformersNames() {
        XCTAssertEqual(HeadNames.transformers("pooler.dense.weight"), "bert.pooler.dense.weight")
        XCTAssertEqual(HeadNames.transformers("encoder.layer.0.output.dense.bias"), "bert.encoder.layer.0.output.dense.bias")
        XCTAssertEqual(HeadNames.transformers("classifier.weight"), "classifier.weight")
        XCTAssertEqual(HeadNames.transformers("cls.predictions.bias"), "cls.predictions.bias")
    }

    /// A BertForSequenceClassification store saved under transformers' names loads back into our layout.
    func testSequenceClassificationCheckpointRoundTrip() throws {
        let specs = EncoderNames.specs(c, pooler: true) + ClassificationHead.specs(hidden: c.hiddenSize, outputs: 2)
        let store = BackwardGradientCheckTests.randomStore(extra: ClassificationHead.specs(hidden: c.hiddenSize, outputs: 2), pooler: true)
        let path = TestSupport.tempDir().appendingPathComponent("model.safetensors").path
        try store.save(to: path, rename: { HeadNames.transformers($0) })
        let file = try SafetensorsFile(path: path)
        XCTAssertTrue(file.contains("bert.pooler.dense.weight") && file.contains("classifier.bias") && !file.contains("pooler.dense.weight"))
        let back = ParameterStore(specs: specs)
        try back.load(from: file)
        XCTAssertEqual(back.values.array, store.values.array)
    }

    func testInitializeLikeTransformers() {
        let specs = MaskedLMHead.specs(c) + ClassificationHead.specs(hidden: 64, outputs: 64)
        let store = ParameterStore(specs: specs)
        store.values.fill(7)
        HeadNames.initialize(specs, in: store, seed: 3)
        XCTAssertEqual(Set(store.tensor(HeadNames.mlmLNWeight).array), [1])
        XCTAssertEqual(Set(store.tensor(HeadNames.mlmLNBias).array), [0])
        XCTAssertEqual(Set(store.tensor(HeadNames.mlmBias).array), [0])
        let w = store.tensor(HeadNames.classifierWeight).array
        let std = (w.map { $0 * $0 }.reduce(0, +) / Float(w.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.002)
    }

    func testLabelChecks() throws {
        let store = BackwardGradientCheckTests.randomStore(extra: ClassificationHead.specs(hidden: c.hiddenSize, outputs: 2), pooler: false)
        let enc = try BertEncoder(config: c, params: store)
        let head = try ClassificationHead.meanPoolCrossEntropy(config: c, params: store)
        // `hidden` points into the workspace: keep it alive for the whole test (a temporary would be freed
        // right after this call and the head would read freed memory).
        let ws = EncoderWorkspace(config: c, training: false)
        defer { withExtendedLifetime(ws) {} }
        let hidden = try enc.forward(batch, workspace: ws)
        XCTAssertThrowsError(try head.forward(hidden: hidden, batch: batch, labels: [0, 2, 1], dropout: nil))
        XCTAssertThrowsError(try head.forward(hidden: hidden, batch: batch, labels: [0, 1], dropout: nil))
        XCTAssertThrowsError(try ClassificationHead.sequenceClassification(config: c, params: store), "no pooler in the store")
        XCTAssertThrowsError(try MaskedLMHead(config: c, params: store))
        // -100 rows are ignored: the loss is the mean over the other rows.
        let all = try head.forward(hidden: hidden, batch: batch, labels: [0, 1, 1], dropout: nil)
        let logits = Array(head.logits)
        // A small random model gives small logits; garbage here once meant freed memory was read.
        XCTAssertTrue(logits.allSatisfy { $0.isFinite && abs($0) < 100 }, "\(logits)")
        let partial = try head.forward(hidden: hidden, batch: batch, labels: [0, -100, 1], dropout: nil)
        func ce(_ r: Int, _ y: Int) -> Float {
            let z = logits[(2 * r)..<(2 * r + 2)], m = z.max()!
            return log(z.map { exp($0 - m) }.reduce(0, +)) + m - z[2 * r + y]
        }
        XCTAssertEqual(all, (ce(0, 0) + ce(1, 1) + ce(2, 1)) / 3, accuracy: 1e-5)
        XCTAssertEqual(partial, (ce(0, 0) + ce(2, 1)) / 2, accuracy: 1e-5)
        XCTAssertEqual(Array(head.logitGradient[2..<4]), [0, 0])
    }

    func testBinaryCrossEntropySoftTargets() {
        let z: [Float] = [-3, 0.5, 20], y: [Float] = [0.2, 1, 0]
        var d = [Float](repeating: 0, count: 3)
        let loss = Losses.binaryCrossEntropy(logits: z, targets: y, rows: 3, dLogits: &d)
        var expected: Double = 0
        for i in 0..<3 {
            let s = 1 / (1 + exp(-Double(z[i])))  // Double: the textbook formula is exact enough there
            expected += -(Double(y[i]) * log(s) + (1 - Double(y[i])) * log(1 - s))
            XCTAssertEqual(Double(d[i]), (s - Double(y[i])) / 3, accuracy: 1e-6)
        }
        XCTAssertEqual(Double(loss), expected / 3, accuracy: 1e-5)
    }

    /// Logits without a loss leave a zero logit gradient to fill (VAT adds its consistency term there).
    func testLogitsOnlyForwardLeavesZeroGradient() throws {
        let store = BackwardGradientCheckTests.randomStore(extra: ClassificationHead.specs(hidden: c.hiddenSize, outputs: 2), pooler: true)
        let enc = try BertEncoder(config: c, params: store)
        let head = try ClassificationHead.sequenceClassification(config: c, params: store)
        // `hidden` points into the workspace: keep it alive for the whole test (a temporary would be freed
        // right after this call and the head would read freed memory).
        let ws = EncoderWorkspace(config: c, training: false)
        defer { withExtendedLifetime(ws) {} }
        let hidden = try enc.forward(batch, workspace: ws)
        let logits = head.computeLogits(hidden: hidden, batch: batch)
        XCTAssertEqual(logits.count, 6)
        XCTAssertEqual(Set(head.logitGradient), [0])
        // The pooler head equals BertEncoder.pool followed by the classifier.
        let pooled = Tensor(zeros: [3, c.hiddenSize])
        enc.pool(hidden, batch: 3, seqLen: batch.seqLen, into: pooled.data)
        let out = Tensor(zeros: [3, 2])
        BLAS.linear(pooled.data, rows: 3, inFeatures: c.hiddenSize, weight: store.pointer(HeadNames.classifierWeight),
                    bias: store.pointer(HeadNames.classifierBias), outFeatures: 2, into: out.data)
        for i in 0..<6 { XCTAssertEqual(logits[i], out.data[i], accuracy: 1e-5) }
    }

    func testMaskedLMWithoutLabelledTokens() throws {
        let store = BackwardGradientCheckTests.randomStore(extra: MaskedLMHead.specs(c), pooler: false)
        let enc = try BertEncoder(config: c, params: store)
        let head = try MaskedLMHead(config: c, params: store)
        // `hidden` points into the workspace: keep it alive for the whole test (a temporary would be freed
        // right after this call and the head would read freed memory).
        let ws = EncoderWorkspace(config: c, training: false)
        defer { withExtendedLifetime(ws) {} }
        let hidden = try enc.forward(batch, workspace: ws)
        let loss = try head.forward(hidden: hidden, batch: batch, labels: [Int32](repeating: -100, count: 15), dropout: nil)
        XCTAssertEqual(loss, 0)
        XCTAssertEqual(head.logitRows, 0)
        let grads = store.makeLike(), dHidden = Tensor(zeros: [15, c.hiddenSize])
        head.backward(batch: batch, grads: grads, dHidden: dHidden.data)
        XCTAssertEqual(Set(grads.array), [0])
        XCTAssertThrowsError(try head.forward(hidden: hidden, batch: batch, labels: [Int32](repeating: 20, count: 15), dropout: nil))
    }
}
