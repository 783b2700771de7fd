import Foundation
import Runtime

/// The non-tensor half of a merged model directory: config and tokenizer copied from the top-1 model, and
/// uniguard.json with the merge provenance (inputs with SHA-256, method, weights, densities, subset, parameters).
enum MergeOutput {
    /// Checks the output directory before any tensor work: not an input, a writable place, and new or already a
    /// model directory (it is replaced as a whole, so a directory of other things is refused).
    static func prepare(_ outDir: String, plan: MergePlan) throws {
        guard FileManager.default.fileExists(atPath: plan.top.file("config.json")) else {
            throw MergeError.badModel(path: plan.top.path, reason: "the top-1 model has no config.json, which the merged model directory needs")
        }
        do {
            try OutputPath.refuseInputs(outDir, plan.models.keys.sorted().map { ("model", $0) })
            try OutputPath.requireModelDirectory(outDir)
        } catch let error as OutputPathError {
            throw MergeError.output(path: outDir, reason: error.reason)
        }
    }

    static func finish(_ outDir: String, plan: MergePlan, hashes: [String: String], merged: Int, copied: Int) throws {
        let fm = FileManager.default
        for name in ["config.json"] + MergeSourceModel.tokenizerFiles {
            let src = plan.top.file(name)
            guard fm.fileExists(atPath: src) else { continue }
            let dst = (outDir as NSString).appendingPathComponent(name)
            do {
                if fm.fileExists(atPath: dst) { try fm.removeItem(atPath: dst) }
                try fm.copyItem(atPath: src, toPath: dst)
            } catch {
                throw MergeError.output(path: dst, reason: "cannot copy \(name) from the top-1 model: \(error.localizedDescription)")
            }
        }
        var doc: [String: Any] = [:]
        if let data = fm.contents(atPath: plan.top.file("uniguard.json")) {
            guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw MergeError.badModel(path: plan.top.path, reason: "uniguard.json is not a JSON object")
            }
            doc = obj
        }
        doc["merge"] = provenance(plan, hashes: hashes, merged: merged, copied: copied)
        let dst = (outDir as NSString).appendingPathComponent("uniguard.json")
        do {
            let data = try JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            try data.write(to: URL(fileURLWithPath: dst), options: .atomic)
        } catch {
            throw MergeError.output(path: dst, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// The `merge` record; `weights`/`densities` follow the order of `models` in the config (null when unset).
    static func provenance(_ plan: MergePlan, hashes: [String: String], merged: Int, copied: Int) -> [String: Any] {
        let c = plan.config
        var inputs: [[String: Any]] = []
        for p in c.allModelPaths {
            let role = p == c.baseModel ? "base" : (p == c.resolvedTopModel ? "top" : "model")
            inputs.append(["path": p, "sha256": hashes[plan.models[p]!.weightsPath] ?? "", "role": role])
        }
        func setting(_ name: String, _ m: MergeConfig.Input) -> Any {
            (m.parameters[name] ?? c.parameters[name])?.jsonObject ?? NSNull()
        }
        var subset: [String: Any] = ["kind": c.subset.kind.rawValue, "label": c.subset.description]
        subset["include"] = c.subset.include.map(\.description)
        subset["exclude"] = c.subset.exclude.map(\.description)
        return [
            "method": c.method.rawValue,
            "inputs": inputs,
            "models": c.models.map(\.path),
            "base_model": c.baseModel ?? NSNull(),
            "top_model": c.resolvedTopModel,
            "weights": c.models.map { setting("weight", $0) },
            "densities": c.models.map { setting("density", $0) },
            "subset": subset,
            "parameters": c.parameters.mapValues(\.jsonObject),
            "dtype": "float32",
            "requested_dtype": c.dtype ?? NSNull(),
            "random_seed": c.randomSeed,
            "merged_tensors": merged,
            "averaged_without_base": plan.averagedWithoutBase,
            "copied_tensors": copied,
        ]
    }
}
