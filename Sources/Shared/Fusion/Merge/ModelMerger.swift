import Foundation
import Runtime

/// What a merge produced.
public struct MergeReport: Sendable {
    public let outputDirectory: String?
    public let mergedTensors: Int
    public let copiedTensors: Int
    public let seconds: Double
}

/// The merge entry point: a config in, a model directory (or a tensor sink) out.
public enum ModelMerger {
    /// Merges into `outDir`: model.safetensors, config.json and tokenizer files of the top-1 model, and uniguard.json
    /// (the top-1 model's, if any) extended with a `merge` provenance record. All checks run before any tensor work.
    @discardableResult
    public static func merge(_ config: MergeConfig, to outDir: String) throws -> MergeReport {
        let start = Date()
        let plan = try MergePlan(config)
        try MergeOutput.prepare(outDir, plan: plan)
        // Provenance hashes are computed alongside the merge, not after it.
        let hashing = ModelHash.Background(models: plan.models.values.sorted { $0.weightsPath < $1.weightsPath })
        var counts = (merged: 0, copied: 0)
        // The directory appears as a whole: an existing model there is replaced only by a complete merge.
        try AtomicDirectory.write(URL(fileURLWithPath: outDir)) { tmp in
            counts = try plan.run(into: SafetensorsFileSink(path: tmp.appendingPathComponent("model.safetensors").path))
            let hashes: [String: String]
            do { hashes = try hashing.wait() } catch {
                throw MergeError.output(path: outDir, reason: "cannot hash an input model for provenance: \(error)")
            }
            try MergeOutput.finish(tmp.path, plan: plan, hashes: hashes, merged: counts.merged, copied: counts.copied)
        }
        return MergeReport(outputDirectory: outDir, mergedTensors: counts.merged, copiedTensors: counts.copied,
                           seconds: Date().timeIntervalSince(start))
    }

    /// Merges into any sink (e.g. `InMemoryTensorSink` to evaluate a search arm without writing files).
    @discardableResult
    public static func merge(_ config: MergeConfig, into sink: TensorSink) throws -> MergeReport {
        let start = Date()
        let plan = try MergePlan(config)
        let counts = try plan.run(into: sink)
        return MergeReport(outputDirectory: nil, mergedTensors: counts.merged, copiedTensors: counts.copied,
                           seconds: Date().timeIntervalSince(start))
    }
}
