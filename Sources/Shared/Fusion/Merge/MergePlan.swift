import EncoderModel
import Foundation
import Runtime

/// A validated merge: inputs opened (memory-mapped), checked for compatibility, and a recipe per output tensor.
/// Building it does all the checking; `run` only computes and writes.
public final class MergePlan {
    public let config: MergeConfig
    public let top: MergeSourceModel
    /// Opened once per distinct path.
    public let models: [String: MergeSourceModel]
    let contributors: [MergeSourceModel]
    let base: MergeSourceModel?
    let recipes: [TensorRecipe]

    public init(_ config: MergeConfig) throws {
        try config.validate()
        self.config = config
        var opened: [String: MergeSourceModel] = [:]
        for p in config.allModelPaths { opened[p] = try MergeSourceModel(path: p) }
        models = opened
        top = opened[config.resolvedTopModel]!
        contributors = config.contributors.map { opened[$0]! }
        base = config.baseModel.map { opened[$0]! }
        try ModelCompatibility.check(reference: top, others: contributors)
        // Task-vector bases are matched leniently (prefixes, missing head); SLERP's base is a contributor.
        var baseNames: [String: String] = [:]
        if config.method.usesTaskVectors, let base {
            baseNames = try ModelCompatibility.baseNames(reference: top, base: base)
        }
        let layerCount = LayerPosition.layerCount(names: top.weights.names)
        recipes = try top.weights.entries.map {
            try TensorRecipe.resolve(config, entry: $0, layerCount: layerCount, baseName: baseNames[$0.name])
        }
        for e in top.weights.entries where !ModelCompatibility.isFloat(e.dtype) && e.dtype != .I64 {
            throw MergeError.badModel(path: top.path, reason: "tensor '\(e.name)' is \(e.dtype.rawValue); only float tensors and I64 buffers can be written")
        }
    }

    /// Names of the tensors the method combines (the rest are copied from the top-1 model).
    public var mergedTensorNames: [String] { recipes.filter(\.merged).map(\.name) }

    /// Merged tensors a task-vector method had no base for (a classification head the base model lacks):
    /// these are the weighted average of the models, weights normalised.
    public var averagedWithoutBase: [String] {
        config.method.usesTaskVectors ? recipes.filter { $0.merged && $0.baseName == nil }.map(\.name) : []
    }

    /// Computes every output tensor and streams it into `sink` in file order; merged tensors are computed on all
    /// cores ahead of the writer, holding at most about two of the largest tensor (`MergeWorkers`).
    public func run(into sink: TensorSink) throws -> (merged: Int, copied: Int) {
        let specs = recipes.map { SafetensorsWriter.Spec(name: $0.name, shape: $0.shape, dtype: $0.isFloat ? .F32 : .I64) }
        try sink.begin(specs: specs, metadata: ["format": "pt"])
        // Merged tensors are computed on every core ahead of this loop, which writes in file order.
        let workers = MergeWorkers(plan: self, threads: Parallel.threads)
        defer { workers.finish() }
        var merged = 0, copied = 0
        do {
            for (i, r) in recipes.enumerated() {
                if !r.isFloat {
                    try sink.write(r.name, int64s: try top.weights.int64s(r.name))
                    copied += 1
                } else if !r.merged {
                    let t = try top.weights.tensor(r.name)
                    try sink.write(r.name, UnsafeBufferPointer(t.buffer))
                    copied += 1
                } else {
                    let out = try workers.take(i)
                    defer { out.deallocate() }
                    try sink.write(r.name, UnsafeBufferPointer(start: out, count: r.count))
                    merged += 1
                }
            }
            try sink.finish()
        } catch {
            sink.abandon()
            throw error
        }
        return (merged, copied)
    }

    /// One merged tensor into `out`. Input tensors are zero-copy views of the mapped files (F32) and are
    /// released when this returns.
    func compute(_ r: TensorRecipe, out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) throws {
        let n = r.count
        let inputs = try contributors.map { try $0.weights.tensor(r.name) }
        let pointers = inputs.map { UnsafePointer($0.data) }
        switch config.method {
        case .linear:
            LinearKernel.run(inputs: pointers, weights: r.weights, normalize: r.normalize, count: n, out: out)
        case .slerp:
            SlerpKernel.run(v0: pointers[0], v1: pointers[1], t: r.t, count: n, out: out)
        default:
            guard let baseName = r.baseName else {
                LinearKernel.run(inputs: pointers, weights: r.weights, normalize: true, count: n, out: out)
                break
            }
            let baseTensor = try base!.weights.tensor(baseName)
            let b = UnsafePointer(baseTensor.data)
            var filters: [DeltaFilter] = []
            filters.reserveCapacity(pointers.count)
            for (i, x) in pointers.enumerated() {
                var f: DeltaFilter
                switch config.method.sparsification {
                case .none:
                    f = .keepAll
                case .magnitude:
                    for e in 0..<n { scratch[e] = MagnitudeSelection.magnitude(x[e] - b[e]) }
                    f = .magnitude(density: r.densities[i], scratch: scratch, count: n)
                case .magnitudeOutliers:
                    for e in 0..<n { scratch[e] = MagnitudeSelection.magnitude(x[e] - b[e]) }
                    f = .magnitudeOutliers(density: r.densities[i], gamma: r.gammas[i], scratch: scratch, count: n)
                case .random:
                    // One stream per (seed, tensor, model): results do not depend on subset or tensor order.
                    f = .random(density: r.densities[i], rng: SeededGenerator(seed: config.randomSeed, stream: r.name, index: i))
                }
                f.applyRescale(r.rescale, density: r.densities[i], model: x, base: b, count: n)
                filters.append(f)
            }
            TaskVectorKernel.run(base: b, models: pointers, weights: r.weights, filters: &filters,
                                 consensus: config.method.usesSignConsensus, normalize: r.normalize, lambda: r.lambda,
                                 count: n, out: out)
            withExtendedLifetime(baseTensor) {}
        }
        withExtendedLifetime(inputs) {}
    }
}
