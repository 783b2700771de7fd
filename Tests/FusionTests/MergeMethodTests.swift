@testable import EncoderModel
import Foundation
@testable import Fusion
import XCTest

/// Method behaviour beyond the mergekit fixtures: DARE by its statistical properties, heads, gradients, filters.
final class MergeMethodTests: XCTestCase {
    var root: URL!

    override func setUp() { root = MergeFixtures.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    /// base = 0.5 everywhere, model = base + delta with distinct deltas.
    func makeBaseAndModel(n: Int) throws -> (base: String, model: String, delta: [Float]) {
        let delta: [Float] = (0..<n).map { (i: Int) -> Float in
            let size = Float(i % 13 + 1) * 0.1
            return i % 2 == 0 ? size : -size
        }
        let base = [Float](repeating: 0.5, count: n)
        let b = root.appendingPathComponent("base"), m = root.appendingPathComponent("model")
        try MergeFixtures.writeModel(b, tensors: [("w", Tensor(shape: [n], values: base))])
        try MergeFixtures.writeModel(m, tensors: [("w", Tensor(shape: [n], values: zip(base, delta).map(+)))])
        return (b.path, m.path, delta)
    }

    func dare(_ method: MergeMethodKind, base: String, model: String, density: Double, seed: UInt64) throws -> [Float] {
        let c = MergeConfig(method: method, models: [.init(path: model, parameters: ["weight": .number(1), "density": .number(density)])],
                            baseModel: base, randomSeed: seed)
        let sink = InMemoryTensorSink()
        try ModelMerger.merge(c, into: sink)
        return sink.tensors["w"]!.array
    }

    func testDareDropRateAndRescale() throws {
        let n = 20_000
        let (base, model, delta) = try makeBaseAndModel(n: n)
        let density = 0.3
        let out = try dare(.dareLinear, base: base, model: model, density: density, seed: 11)
        var dropped = 0
        for i in 0..<n {
            let d = out[i] - 0.5
            if d == 0 { dropped += 1 } else {
                // Survivors are rescaled by 1/density.
                XCTAssertEqual(d, delta[i] / Float(density), accuracy: 1e-5)
            }
        }
        XCTAssertEqual(Double(dropped) / Double(n), 1 - density, accuracy: 0.015, "observed drop rate")
    }

    func testDareTiesRescalesSurvivors() throws {
        // One model: the sign election keeps every surviving delta, so each element is the base (dropped) or
        // base + delta / density (kept and rescaled).
        let n = 20_000
        let (base, model, delta) = try makeBaseAndModel(n: n)
        let density = 0.4
        let out = try dare(.dareTies, base: base, model: model, density: density, seed: 7)
        var kept = 0, wrong: [Int] = []
        for i in 0..<n where out[i] != 0.5 {
            kept += 1
            if abs(out[i] - 0.5 - delta[i] / Float(density)) > 1e-5 { wrong.append(i) }
        }
        XCTAssertEqual(wrong.count, 0, "survivors not rescaled by 1/density, e.g. element \(wrong.first ?? -1): "
                       + "\(wrong.first.map { out[$0] - 0.5 } ?? 0) for delta \(wrong.first.map { delta[$0] } ?? 0)")
        XCTAssertEqual(Double(kept) / Double(n), density, accuracy: 0.015, "observed keep rate")
    }

    func testDareExpectedValueIsTheUndroppedDelta() throws {
        let n = 2_000
        let (base, model, delta) = try makeBaseAndModel(n: n)
        var mean = [Double](repeating: 0, count: n)
        let seeds = 300
        for s in 0..<seeds {
            let out = try dare(.dareLinear, base: base, model: model, density: 0.5, seed: UInt64(s))
            for i in 0..<n { mean[i] += Double(out[i] - 0.5) / Double(seeds) }
        }
        // Ratio mean/delta averaged over elements: unbiased estimator => close to 1.
        var ratio = 0.0
        for i in 0..<n { ratio += mean[i] / Double(delta[i]) / Double(n) }
        XCTAssertEqual(ratio, 1, accuracy: 0.02)
    }

    func testDareIsDeterministicPerSeed() throws {
        let (base, model, _) = try makeBaseAndModel(n: 5_000)
        for method in [MergeMethodKind.dareLinear, .dareTies] {
            let a = try dare(method, base: base, model: model, density: 0.4, seed: 5)
            let b = try dare(method, base: base, model: model, density: 0.4, seed: 5)
            let c = try dare(method, base: base, model: model, density: 0.4, seed: 6)
            XCTAssertEqual(a, b, "\(method): same seed, same result")
            XCTAssertNotEqual(a, c, "\(method): another seed drops other entries")
        }
    }

    func testDareTiesOnFixturesIsDeterministic() throws {
        var c = try MergeFixtures.config("ties")
        c.method = .dareTies
        c.randomSeed = 3
        let a = InMemoryTensorSink(), b = InMemoryTensorSink()
        try ModelMerger.merge(c, into: a)
        try ModelMerger.merge(c, into: b)
        for name in a.names { XCTAssertEqual(a.tensors[name]!.array, b.tensors[name]!.array, name) }
    }

    func testClassificationHeadMergesUnderAllAndComesFromTopUnderAllButClassifier() throws {
        let names = ["encoder.layer.0.attention.self.query.weight", "encoder.layer.0.output.dense.weight", "classifier.weight", "pooler.dense.weight"]
        for (dir, value) in [("a", Float(1)), ("b", Float(3))] {
            try MergeFixtures.writeModel(root.appendingPathComponent(dir),
                tensors: names.map { ($0, Tensor(shape: [2, 2], values: [Float](repeating: value, count: 4))) })
        }
        let models: [MergeConfig.Input] = [.init(path: root.appendingPathComponent("a").path, parameters: ["weight": .number(1)]),
                                           .init(path: root.appendingPathComponent("b").path, parameters: ["weight": .number(1)])]
        func run(_ subset: ParameterSubset) throws -> [String: Float] {
            let sink = InMemoryTensorSink()
            try ModelMerger.merge(MergeConfig(method: .linear, models: models, subset: subset), into: sink)
            return sink.tensors.mapValues { $0.data[0] }
        }
        XCTAssertEqual(try run(.all), Dictionary(uniqueKeysWithValues: names.map { ($0, Float(2)) }))
        let abc = try run(.allButClassifier)
        XCTAssertEqual(abc["classifier.weight"], 1)
        XCTAssertEqual(abc["pooler.dense.weight"], 1)
        XCTAssertEqual(abc["encoder.layer.0.output.dense.weight"], 2)
        let att = try run(.attention)
        XCTAssertEqual(att["encoder.layer.0.attention.self.query.weight"], 2)
        XCTAssertEqual(att["encoder.layer.0.output.dense.weight"], 1)
        XCTAssertEqual(att["classifier.weight"], 1)
    }

    func testPerLayerGradientAndNameFilteredWeights() throws {
        let m1 = MergeFixtures.model("m1"), m2 = MergeFixtures.model("m2")
        // weight of m1 goes 1 -> 0 over the two layers; m2 the reverse; embeddings (t = 0) are pure m1.
        let c = MergeConfig(method: .linear, models: [.init(path: m1, parameters: ["weight": .gradient([1, 0])]),
                                                      .init(path: m2, parameters: ["weight": .gradient([0, 1])])])
        let sink = InMemoryTensorSink()
        try ModelMerger.merge(c, into: sink)
        let f1 = try SafetensorsFile(path: m1 + "/model.safetensors"), f2 = try SafetensorsFile(path: m2 + "/model.safetensors")
        for name in ["embeddings.word_embeddings.weight", "encoder.layer.0.output.dense.weight"] {
            XCTAssertEqual(MergeFixtures.maxDiff(sink.tensors[name]!, try f1.tensor(name)), 0, name)
        }
        XCTAssertEqual(MergeFixtures.maxDiff(sink.tensors["encoder.layer.1.output.dense.weight"]!, try f2.tensor("encoder.layer.1.output.dense.weight")), 0)

        // mergekit conditional list: attention tensors take m2 only, everything else m1 only.
        let cond = ParameterSetting.conditional([.init(filter: NamePattern(substring: "attention"), value: .number(0)), .init(filter: nil, value: .number(1))])
        let inverse = ParameterSetting.conditional([.init(filter: NamePattern(substring: "attention"), value: .number(1)), .init(filter: nil, value: .number(0))])
        let c2 = MergeConfig(method: .linear, models: [.init(path: m1, parameters: ["weight": cond]), .init(path: m2, parameters: ["weight": inverse])])
        let s2 = InMemoryTensorSink()
        try ModelMerger.merge(c2, into: s2)
        XCTAssertEqual(MergeFixtures.maxDiff(s2.tensors["encoder.layer.0.attention.self.key.weight"]!, try f2.tensor("encoder.layer.0.attention.self.key.weight")), 0)
        XCTAssertEqual(MergeFixtures.maxDiff(s2.tensors["encoder.layer.0.intermediate.dense.weight"]!, try f1.tensor("encoder.layer.0.intermediate.dense.weight")), 0)
    }

    func testTaskArithmeticLambdaScalesTheMixedDelta() throws {
        var c = try MergeFixtures.config("task_arithmetic")
        c.parameters["lambda"] = .number(0.5)
        let half = InMemoryTensorSink(), full = InMemoryTensorSink()
        try ModelMerger.merge(c, into: half)
        try ModelMerger.merge(try MergeFixtures.config("task_arithmetic"), into: full)
        let base = try SafetensorsFile(path: MergeFixtures.model("m0") + "/model.safetensors")
        let name = "encoder.layer.1.attention.self.value.weight"
        let b = try base.tensor(name), h = half.tensors[name]!, f = full.tensors[name]!
        for i in 0..<b.count { XCTAssertEqual(h.data[i] - b.data[i], 0.5 * (f.data[i] - b.data[i]), accuracy: 1e-6) }
    }

    func testSlerpEndpointsReturnTheInputs() throws {
        for (t, dir) in [(0.0, "m1"), (1.0, "m2")] {
            var c = try MergeFixtures.config("slerp")
            c.parameters["t"] = .number(t)
            let sink = InMemoryTensorSink()
            try ModelMerger.merge(c, into: sink)
            let f = try SafetensorsFile(path: MergeFixtures.model(dir) + "/model.safetensors")
            for name in f.names { XCTAssertLessThan(MergeFixtures.maxDiff(sink.tensors[name]!, try f.tensor(name)), 1e-5, "\(name) t=\(t)") }
        }
    }

    func testTaskVectorsAgainstAPrefixedBaseWithoutHeadAndHeadsAveraged() throws {
        // Base: a bare transformers BertModel export with `bert.` names, a pooler and no classifier.
        let base = root.appendingPathComponent("base"), a = root.appendingPathComponent("a"), b = root.appendingPathComponent("b")
        try MergeFixtures.writeModel(base, tensors: [("bert.encoder.layer.0.output.dense.weight", Tensor(shape: [2], values: [1, 1])),
                                                     ("bert.pooler.dense.weight", Tensor(shape: [2], values: [9, 9]))],
                                     config: ["model_type": "bert", "architectures": ["BertModel"]])
        for (dir, v) in [(a, Float(3)), (b, Float(5))] {
            try MergeFixtures.writeModel(dir, tensors: [("encoder.layer.0.output.dense.weight", Tensor(shape: [2], values: [v, 1 - v])),
                                                        ("classifier.weight", Tensor(shape: [2], values: [v, v]))],
                                         config: ["model_type": "bert", "architectures": ["BertForSequenceClassification"]])
        }
        let c = MergeConfig(method: .taskArithmetic,
                            models: [.init(path: a.path, parameters: ["weight": .number(0.5)]), .init(path: b.path, parameters: ["weight": .number(1.5)])],
                            baseModel: base.path)
        let sink = InMemoryTensorSink()
        let plan = try MergePlan(c)
        XCTAssertEqual(plan.averagedWithoutBase, ["classifier.weight"])
        _ = try plan.run(into: sink)
        // base + 0.5 * (a - base) + 1.5 * (b - base)
        let expected: [Float] = [1 + 0.5 * 2 + 1.5 * 4, 1 + 0.5 * -3 + 1.5 * -5]
        XCTAssertEqual(sink.tensors["encoder.layer.0.output.dense.weight"]!.array, expected)
        // No base for the head: (0.5 * 3 + 1.5 * 5) / 2
        XCTAssertEqual(sink.tensors["classifier.weight"]!.array, [4.5, 4.5])
        XCTAssertNil(sink.tensors["bert.pooler.dense.weight"], "the base's extra tensors are not output")
    }

    func testBaseMissingAnEncoderTensorIsAnError() throws {
        let base = root.appendingPathComponent("base"), a = root.appendingPathComponent("a")
        try MergeFixtures.writeModel(base, tensors: [("x", Tensor(zeros: [2]))])
        try MergeFixtures.writeModel(a, tensors: [("x", Tensor(zeros: [2])), ("encoder.layer.0.output.dense.weight", Tensor(zeros: [2]))])
        let c = MergeConfig(method: .ties, models: [.init(path: a.path, parameters: ["weight": .number(1)])], baseModel: base.path)
        XCTAssertThrowsError(try MergePlan(c)) { XCTAssertTrue("\($0)".contains("'encoder.layer.0.output.dense.weight'"), "\($0)") }
    }

    func testNormRescaleMatchesTheUntrimmedL1Norm() throws {
        let (base, model, delta) = try makeBaseAndModel(n: 1000)
        for method in [MergeMethodKind.dareLinear, .ties] {
            let c = MergeConfig(method: method, models: [.init(path: model, parameters: ["weight": .number(1), "density": .number(0.3)])],
                                baseModel: base, parameters: ["rescale": .scalar(.text("l1")), "normalize": .scalar(.bool(false))], randomSeed: 2)
            let sink = InMemoryTensorSink()
            try ModelMerger.merge(c, into: sink)
            let l1 = sink.tensors["w"]!.array.map { Double(abs($0 - 0.5)) }.reduce(0, +)
            XCTAssertEqual(l1, delta.map { Double(abs($0)) }.reduce(0, +), accuracy: 1e-2, "\(method)")
        }
    }

    func testSlerpFallsBackToLerpForColinearTensorsAndRotatesOtherwise() {
        let v0: [Float] = [1, 2, 3], colinear: [Float] = [2, 4, 6], orthogonal: [Float] = [3, 0, -1]
        var out = [Float](repeating: 0, count: 3)
        out.withUnsafeMutableBufferPointer { SlerpKernel.run(v0: v0, v1: colinear, t: 0.25, count: 3, out: $0.baseAddress!) }
        XCTAssertEqual(out, [1.25, 2.5, 3.75])
        out.withUnsafeMutableBufferPointer { SlerpKernel.run(v0: v0, v1: orthogonal, t: 0.5, count: 3, out: $0.baseAddress!) }
        // Orthogonal inputs: both coefficients sin(pi/4) / sin(pi/2).
        let s = Float(0.5.squareRoot())
        for i in 0..<3 { XCTAssertEqual(out[i], s * v0[i] + s * orthogonal[i], accuracy: 1e-6) }
    }
}
