extension MergeArm {
    /// The merge recipe for this arm over the space's candidates. Candidates[0] is the top-1 model: tensors
    /// outside the subset come from it. SLERP merges the two highest-weight candidates, from the heavier one
    /// (t = 0) towards the other with t = w_other / (w_heavier + w_other).
    ///
    /// The one place an arm becomes a recipe: the local run, every worker shard and the export call it, and the
    /// random seed of stochastic merges (DARE masks) is the arm id, so they all merge the very same model.
    public func mergeConfig(_ space: SearchSpace) throws -> MergeConfig {
        let randomSeed = UInt64(truncatingIfNeeded: id.rawValue)
        guard weights.count == space.candidates.count else {
            throw SearchError.badState("arm \(id) has \(weights.count) weights for \(space.candidates.count) candidates")
        }
        var perModel: [String: ParameterSetting] = [:]
        var global: [String: ParameterSetting] = [:]
        for (k, v) in parameters {
            if MergeConfig.modelParameterNames.contains(k) { perModel[k] = .number(v) } else { global[k] = .number(v) }
        }
        if method == .slerp {
            let order = weights.indices.sorted { (weights[$0], -$0) > (weights[$1], -$1) }
            let (a, b) = (order[0], order[1])
            let total = weights[a] + weights[b]
            global["t"] = .number(total > 0 ? weights[b] / total : 0.5)
            return MergeConfig(method: .slerp, models: [.init(path: space.candidates[a]), .init(path: space.candidates[b])],
                               baseModel: space.candidates[a], parameters: global, subset: subset,
                               topModel: space.candidates[a] == space.candidates[0] || space.candidates[b] != space.candidates[0]
                                   ? space.candidates[a] : space.candidates[b],
                               randomSeed: randomSeed, source: "arm \(id)")
        }
        let models = zip(space.candidates, weights).map { path, w in
            MergeConfig.Input(path: path, parameters: perModel.merging(["weight": .number(w)]) { $1 })
        }
        return MergeConfig(method: method, models: models, baseModel: method.usesTaskVectors ? space.baseModel : nil,
                           parameters: global, subset: subset, topModel: space.candidates[0], randomSeed: randomSeed,
                           source: "arm \(id)")
    }
}
