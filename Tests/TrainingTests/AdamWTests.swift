@testable import EncoderModel
import Foundation
import TestHelpers
@testable import Training
import XCTest

/// AdamW, the learning-rate schedule and gradient clipping.
final class AdamWTests: XCTestCase {
    /// PyTorch's own gradients in, PyTorch's parameters after one step out: isolates the optimizer.
    func testOneStepMatchesPyTorchOnFixtureGradients() throws {
        for name in ["case_mean_ce", "case_mean_bce", "case_hf_seqcls"] {
            let fx = try TinyBertCase(name)
            let names = fx.names("param.")
            let specs = try names.map { n in (name: n, shape: try XCTUnwrap(fx.file.entry(fx.stored("param.", n))).shape) }
            let store = try fx.store(specs: specs)
            let grads = store.makeLike()
            for s in store.slots {
                let g = try fx.file.tensor(fx.stored("grad.", s.name), shape: s.shape)
                (grads.data + s.offset).update(from: g.data, count: s.count)
            }
            AdamW(params: store, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01).step(grads: grads, lr: 1e-2)
            var worst: Float = 0
            for s in store.slots {
                let e = try fx.file.tensor(fx.stored("adamw.", s.name), shape: s.shape)
                let err = Compare.maxAbs(store.values.data + s.offset, e.data, count: s.count)
                XCTAssertLessThan(err, 1e-7, "\(name): \(s.name)")
                worst = max(worst, err)
            }
            print("[AdamW \(name)] worst abs error vs torch.optim.AdamW on torch's gradients: \(worst)")
        }
    }

    /// Several steps against a Double reference of torch's update (bias correction beyond step 1).
    func testMultipleStepsMatchReferenceFormula() {
        let store = ParameterStore(specs: [("w.weight", [5]), ("w.bias", [3]), ("n.LayerNorm.weight", [2])])
        for i in 0..<store.count { store.values.data[i] = Float(i) * 0.1 - 0.3 }
        var ref = (0..<store.count).map { Double(store.values.data[$0]) }
        var m = [Double](repeating: 0, count: store.count), v = m
        let opt = AdamW(params: store, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1)
        let grads = store.makeLike()
        for step in 1...4 {
            for i in 0..<store.count { grads.data[i] = sin(Float(i * 7 + step)) * 0.01 }
            let lr = 0.05 / Double(step)
            opt.step(grads: grads, lr: Float(lr))
            for i in 0..<store.count {
                let g = Double(grads.data[i])
                if i < 5 { ref[i] *= 1 - lr * 0.1 }
                m[i] = 0.8 * m[i] + 0.2 * g
                v[i] = 0.99 * v[i] + 0.01 * g * g
                let mh = m[i] / (1 - pow(0.8, Double(step))), den = (v[i] / (1 - pow(0.99, Double(step)))).squareRoot() + 1e-6
                ref[i] -= lr * mh / den
            }
        }
        for i in 0..<store.count { XCTAssertEqual(Double(store.values.data[i]), ref[i], accuracy: 1e-6, "element \(i)") }
        XCTAssertEqual(opt.stepCount, 4)
    }

    /// Scaling gradients inside the step equals clipping them first.
    func testGradientScaleEqualsClippingFirst() {
        let a = ParameterStore(specs: [("w.weight", [37])]), b = ParameterStore(specs: [("w.weight", [37])])
        for i in 0..<37 { a.values.data[i] = Float(i) * 0.01; b.values.data[i] = Float(i) * 0.01 }
        let g = Tensor(zeros: [37])
        for i in 0..<37 { g.data[i] = cos(Float(i)) }
        let coef = GradClip.coefficient(norm: GradClip.norm(g.data, count: 37), maxNorm: 0.5)
        XCTAssertLessThan(coef, 1)
        let optA = AdamW(params: a), optB = AdamW(params: b)
        for _ in 0..<3 { optA.step(grads: g, lr: 0.1, gradientScale: coef) }
        let clipped = g.copy()
        GradClip.clip(clipped, maxNorm: 0.5)
        for _ in 0..<3 { optB.step(grads: clipped, lr: 0.1) }
        XCTAssertEqual(a.values.array, b.values.array)
        XCTAssertEqual(GradClip.coefficient(norm: 0.1, maxNorm: 1), 1)
    }

    func testDecayFlagsByNameAndFrozenSlots() {
        let store = ParameterStore(specs: [("a.weight", [2]), ("a.bias", [2]), ("b.LayerNorm.weight", [2]), ("classifier.weight", [2])])
        store.values.fill(1)
        let zero = store.makeLike()
        // Zero gradients: only decoupled decay moves parameters.
        AdamW(params: store, weightDecay: 0.5).step(grads: zero, lr: 1)
        XCTAssertEqual(store.tensor("a.weight").array, [0.5, 0.5])
        XCTAssertEqual(store.tensor("a.bias").array, [1, 1])
        XCTAssertEqual(store.tensor("b.LayerNorm.weight").array, [1, 1])
        store.values.fill(1)
        let opt = AdamW(params: store, weightDecay: 0.5, trainable: { $0.hasPrefix("classifier.") })
        XCTAssertEqual(opt.trainableCount, 2)
        opt.step(grads: zero, lr: 1)
        XCTAssertEqual(store.tensor("a.weight").array, [1, 1])
        XCTAssertEqual(store.tensor("classifier.weight").array, [0.5, 0.5])
    }

    func testLinearScheduleMatchesTransformers() {
        let s = LinearSchedule(peak: 1, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(s.lr(step: 0), 0)
        XCTAssertEqual(s.lr(step: 5), 0.5, accuracy: 1e-7)
        XCTAssertEqual(s.lr(step: 10), 1)
        XCTAssertEqual(s.lr(step: 60), 0.5, accuracy: 1e-7)
        XCTAssertEqual(s.lr(step: 110), 0)
        XCTAssertEqual(s.lr(step: 200), 0)
        XCTAssertEqual(LinearSchedule(peak: 2, warmupSteps: 0, totalSteps: 4).lr(step: 0), 2)
        XCTAssertEqual(LinearSchedule(peak: 1, warmupRatio: 0.1, totalSteps: 95).warmupSteps, 10)
    }

    func testGradClipByGlobalNorm() {
        let g = Tensor(shape: [4], values: [3, 0, 4, 0])
        XCTAssertEqual(GradClip.clip(g, maxNorm: 10), 5, accuracy: 1e-6)
        XCTAssertEqual(g.array, [3, 0, 4, 0])  // under the limit: untouched
        XCTAssertEqual(GradClip.clip(g, maxNorm: 1), 5, accuracy: 1e-6)
        XCTAssertEqual(g.data[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(g.data[2], 0.8, accuracy: 1e-6)
        let big = Tensor(zeros: [10_001])
        big.fill(0.5)
        XCTAssertEqual(GradClip.norm(big.data, count: big.count), (Float(10_001) * 0.25).squareRoot(), accuracy: 1e-3)
    }
}
