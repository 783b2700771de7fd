@testable import EncoderModel
import Foundation
@testable import Runtime
@testable import Tokenizers
import XCTest

/// Central finite differences against the analytic gradients of a tiny random model, for every head, with and
/// without dropout (its masks are a deterministic function of the seed, so the loss stays a function of θ),
/// and for the input-embedding gradient that virtual adversarial training uses.
final class BackwardGradientCheckTests: XCTestCase {
    static let config = BertConfig(vocabSize: 20, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 16,
                                   maxPositions: 8, typeVocabSize: 2, layerNormEps: 1e-12, hiddenDropout: 0.1, attentionDropout: 0.1)
    /// Row 0 is full, row 1 ends in padding (pad id 0), row 2 has a masked hole; segment ids vary.
    static let batch = TokenBatch(batch: 3, seqLen: 5,
                                  ids: [2, 7, 11, 5, 3, 2, 9, 4, 0, 0, 2, 13, 6, 17, 0],
                                  mask: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 0],
                                  typeIds: [0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0], lengths: [5, 3, 4])

    func testMeanPoolCrossEntropyGradients() throws {
        try check(extra: ClassificationHead.specs(hidden: 8, outputs: 3), pooler: false, labels: [2, 0, 1]) {
            try ClassificationHead.meanPoolCrossEntropy(config: $0, params: $1, numLabels: 3)
        }
    }

    func testMeanPoolBinaryGradients() throws {
        try check(extra: ClassificationHead.specs(hidden: 8, outputs: 1), pooler: false, labels: [1, 0, 1]) {
            try ClassificationHead.meanPoolBinary(config: $0, params: $1)
        }
    }

    func testSequenceClassificationGradients() throws {
        try check(extra: ClassificationHead.specs(hidden: 8, outputs: 2), pooler: true, labels: [1, 0, 0]) {
            try ClassificationHead.sequenceClassification(config: $0, params: $1)
        }
    }

    func testMaskedLMGradients() throws {
        var labels = [Int32](repeating: -100, count: 15)
        labels[1] = 7; labels[3] = 5; labels[6] = 9; labels[13] = 17
        try check(extra: MaskedLMHead.specs(Self.config), pooler: false, labels: labels) {
            try MaskedLMHead(config: $0, params: $1)
        }
    }

    func testGradientsWithDropout() throws {
        let drop = DropoutSpec(hidden: 0.2, attention: 0.25, seed: 42, firstRow: 3)
        try check(extra: ClassificationHead.specs(hidden: 8, outputs: 2), pooler: true, labels: [1, 0, 1], dropout: drop) {
            try ClassificationHead.sequenceClassification(config: $0, params: $1)
        }
        try check(extra: ClassificationHead.specs(hidden: 8, outputs: 2), pooler: false, labels: [0, 1, 1], dropout: drop) {
            try ClassificationHead(config: $0, params: $1, pooling: .mean, objective: .crossEntropy, dropout: 0.3)
        }
    }

    /// dL/d(perturbation added to the input embeddings), with weight gradients switched off.
    func testInputEmbeddingGradientForVAT() throws {
        let c = Self.config, b = Self.batch, n = b.batch * b.seqLen, h = c.hiddenSize
        let (store, head) = try Self.model(extra: ClassificationHead.specs(hidden: h, outputs: 2), pooler: false) {
            try ClassificationHead.meanPoolCrossEntropy(config: $0, params: $1)
        }
        let encoder = try BertEncoder(config: c, params: store)
        let ws = EncoderWorkspace(config: c, training: true)
        ws.dropout = DropoutSpec(hidden: 0.1, attention: 0.1, seed: 7)
        let delta = Tensor(zeros: [n, h])
        var rng = RandomSource(seed: 3)
        rng.fillNormal(delta.data, count: n * h, std: 0.1)
        let labels: [Int32] = [1, 0, 1]
        func loss() throws -> Float {
            let hidden = try encoder.forward(b, workspace: ws, inputPerturbation: delta.data)
            return try head.forward(hidden: hidden, batch: b, labels: labels, dropout: ws.dropout)
        }
        _ = try loss()
        let grads = store.makeLike(), gw = EncoderGradientWorkspace(config: c)
        gw.prepare(for: ws)
        head.backward(batch: b, grads: grads, dHidden: gw.dHidden.data)
        let before = grads.array
        encoder.backward(b, workspace: ws, gradients: gw, into: grads, parameterGradients: false)
        XCTAssertEqual(grads.array, before, "parameterGradients: false must leave encoder gradients alone")
        let analytic = Array(gw.inputGradient.buffer.prefix(n * h))
        var worst: Float = 0, scale: Float = 0
        for i in 0..<(n * h) {
            let old = delta.data[i], eps: Float = 3e-3
            delta.data[i] = old + eps; let up = try loss()
            delta.data[i] = old - eps; let down = try loss()
            delta.data[i] = old
            worst = max(worst, abs((up - down) / (2 * eps) - analytic[i])); scale = max(scale, abs(analytic[i]))
        }
        XCTAssertGreaterThan(scale, 1e-4)
        XCTAssertLessThan(worst / scale, 1e-2, "input gradient vs finite differences")
        print("[gradcheck input embeddings] worst |fd − analytic| / max|analytic| = \(worst / scale)")
    }

    // MARK: - Helpers

    /// A tiny model with random weights large enough that every path carries gradient.
    static func model(extra: [(name: String, shape: [Int])], pooler: Bool,
                      head: (BertConfig, ParameterStore) throws -> TrainingHead) throws -> (ParameterStore, TrainingHead) {
        let store = randomStore(extra: extra, pooler: pooler)
        return (store, try head(config, store))
    }

    /// Encoder (+ `extra`) tensors with seeded random values.
    static func randomStore(extra: [(name: String, shape: [Int])], pooler: Bool) -> ParameterStore {
        let store = ParameterStore(specs: EncoderNames.specs(config, pooler: pooler) + extra)
        var rng = RandomSource(seed: 1234)
        for s in store.slots {
            let p = store.values.data + s.offset
            if s.name.contains("LayerNorm.weight") { for i in 0..<s.count { p[i] = 1 + 0.2 * rng.nextNormal() } }
            else { rng.fillNormal(p, count: s.count, std: s.name.hasSuffix(".bias") ? 0.1 : 0.4) }
        }
        return store
    }

    private func check(extra: [(name: String, shape: [Int])], pooler: Bool, labels: [Int32], dropout: DropoutSpec? = nil,
                       file: StaticString = #filePath, line: UInt = #line,
                       head makeHead: (BertConfig, ParameterStore) throws -> TrainingHead) throws {
        let c = Self.config, b = Self.batch
        let (store, head) = try Self.model(extra: extra, pooler: pooler, head: makeHead)
        let encoder = try BertEncoder(config: c, params: store)
        let ws = EncoderWorkspace(config: c, training: true)
        ws.dropout = dropout
        func loss() throws -> Float {
            let hidden = try encoder.forward(b, workspace: ws)
            return try head.forward(hidden: hidden, batch: b, labels: labels, dropout: dropout)
        }
        let base = try loss()
        let grads = store.makeLike(), gw = EncoderGradientWorkspace(config: c)
        gw.prepare(for: ws)
        head.backward(batch: b, grads: grads, dHidden: gw.dHidden.data)
        encoder.backward(b, workspace: ws, gradients: gw, into: grads)

        // Per tensor: its largest-gradient element plus random others; eps 3e-3 balances truncation error
        // (this model is deliberately far from linear) against float rounding of the loss. Scales are floored
        // at 1% of the largest gradient, and 16 ulps of the loss are forgiven as rounding: key biases have an
        // analytically zero gradient, so their finite differences are pure rounding noise.
        var largest: Float = 0
        for i in 0..<grads.count { largest = max(largest, abs(grads.data[i])) }
        var worst: (Float, String) = (0, ""), worstRaw: Float = 0
        var rng = RandomSource(seed: 99)
        let p = store.values.data, eps: Float = 3e-3
        let noise = 16 * base.ulp / (2 * eps)
        for s in store.slots {
            var picks = [s.offset + (0..<s.count).max { abs(grads.data[s.offset + $0]) < abs(grads.data[s.offset + $1]) }!]
            for _ in 0..<min(7, s.count - 1) { picks.append(s.offset + Int(rng.next() % UInt64(s.count))) }
            var err: Float = 0, raw: Float = 0, scale: Float = 1e-2 * largest
            for i in picks {
                let old = p[i]
                p[i] = old + eps; let up = try loss()
                p[i] = old - eps; let down = try loss()
                p[i] = old
                let diff = abs((up - down) / (2 * eps) - grads.data[i])
                err = max(err, diff - noise); raw = max(raw, diff)
            }
            for i in s.offset..<(s.offset + s.count) { scale = max(scale, abs(grads.data[i])) }
            worstRaw = max(worstRaw, raw / scale)
            XCTAssertLessThan(err / scale, 1e-2, "\(s.name): max |fd − analytic| / max|analytic|", file: file, line: line)
            if err / scale > worst.0 { worst = (err / scale, s.name) }
        }
        print("[gradcheck \(type(of: head)) dropout=\(dropout != nil)] worst relative error beyond rounding \(worst.0) (\(worst.1)), raw \(worstRaw), over \(store.slots.count) tensors")
    }
}
