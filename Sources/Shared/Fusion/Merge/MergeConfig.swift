import Foundation

/// A merge recipe in mergekit's shape (`merge_method`, `models`, `base_model`, `parameters`, `dtype`) plus our
/// `subset` (which tensors merge), `top_model` (where the others come from) and `random_seed` (DARE).
public struct MergeConfig: Sendable, Equatable {
    /// One `models:` entry: a model directory and its own parameters (weight, density, gamma …).
    public struct Input: Sendable, Equatable {
        public var path: String
        public var parameters: [String: ParameterSetting]
        public init(path: String, parameters: [String: ParameterSetting] = [:]) {
            self.path = path
            self.parameters = parameters
        }
    }

    public var method: MergeMethodKind
    public var models: [Input]
    public var baseModel: String?
    /// Global parameters (normalize, lambda, t, rescale …); a model's own entry wins over these for that model.
    public var parameters: [String: ParameterSetting]
    /// Computation dtype as written; we compute and write float32 whatever it says (recorded in provenance).
    public var dtype: String?
    public var subset: ParameterSubset
    /// The model tensors outside the subset are copied from; nil means the first non-base model in `models`.
    public var topModel: String?
    public var randomSeed: UInt64
    /// The YAML file this came from, for error messages.
    public var source: String

    public init(method: MergeMethodKind, models: [Input], baseModel: String? = nil,
                parameters: [String: ParameterSetting] = [:], dtype: String? = nil, subset: ParameterSubset = .all,
                topModel: String? = nil, randomSeed: UInt64 = 0, source: String = "<config>") {
        self.method = method
        self.models = models
        self.baseModel = baseModel
        self.parameters = parameters
        self.dtype = dtype
        self.subset = subset
        self.topModel = topModel
        self.randomSeed = randomSeed
        self.source = source
    }

    /// Parameters each method reads; anything else in the YAML is a typo we report instead of ignoring.
    static let globalParameterNames: Set<String> = ["normalize", "lambda", "t", "rescale", "int8_mask"]
    static let modelParameterNames: Set<String> = ["weight", "density", "gamma"]

    /// The models whose tensors are combined, in order (task-vector methods leave the base out; SLERP puts it first).
    public var contributors: [String] {
        switch method {
        case .linear: return models.map(\.path)
        case .slerp:
            guard let base = baseModel else { return models.map(\.path) }
            return [base] + models.map(\.path).filter { $0 != base }
        default: return models.map(\.path).filter { $0 != baseModel }
        }
    }

    /// The top-1 model: outside the subset its tensors are used unchanged, and its config/tokenizer are copied.
    public var resolvedTopModel: String {
        if let topModel { return topModel }
        // Task-vector methods: the base is never "the best fine-tuned model", even when listed under `models`.
        let skipBase = method.usesTaskVectors
        return models.map(\.path).first { !skipBase || $0 != baseModel } ?? models.first?.path ?? ""
    }

    /// Every distinct model directory the merge reads, top-1 first.
    public var allModelPaths: [String] {
        var seen = Set<String>()
        var out: [String] = []
        for p in [resolvedTopModel] + models.map(\.path) + (baseModel.map { [$0] } ?? []) where seen.insert(p).inserted {
            out.append(p)
        }
        return out
    }

    /// A parameter for one tensor: the model's own setting first, then the global one (mergekit's lookup order).
    public func value(_ name: String, model: String?, tensor: String, t: Double) -> ParameterValue? {
        if let model, let entry = models.first(where: { $0.path == model }), let s = entry.parameters[name],
           let v = s.evaluate(tensor: tensor, t: t) {
            return v
        }
        return parameters[name]?.evaluate(tensor: tensor, t: t)
    }

    /// Structural checks that need no file access: required models and parameters, known names.
    public func validate() throws {
        func bad(_ key: String, _ reason: String) -> MergeError { .badConfig(file: source, key: key, reason: reason) }
        guard !models.isEmpty else { throw bad("models", "no models to merge; list at least one `- model: PATH`") }
        for (i, m) in models.enumerated() {
            for name in m.parameters.keys where !Self.modelParameterNames.contains(name) && !Self.globalParameterNames.contains(name) {
                throw bad("models[\(i)].parameters.\(name)", "unknown parameter; known: \(Self.modelParameterNames.union(Self.globalParameterNames).sorted().joined(separator: ", "))")
            }
        }
        for name in parameters.keys where !Self.modelParameterNames.contains(name) && !Self.globalParameterNames.contains(name) {
            throw bad("parameters.\(name)", "unknown parameter; known: \(Self.modelParameterNames.union(Self.globalParameterNames).sorted().joined(separator: ", "))")
        }
        if let dup = Dictionary(grouping: models.map(\.path), by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw bad("models", "'\(dup)' is listed twice; give each model once with its weight")
        }
        if let top = topModel, !models.contains(where: { $0.path == top }) {
            throw bad("top_model", "'\(top)' is not one of the models listed under `models`")
        }
        switch method {
        case .linear:
            if baseModel != nil { throw bad("base_model", "linear does not use a base model; remove the key or list it under `models` with a weight") }
        case .slerp:
            guard let base = baseModel else { throw bad("base_model", "slerp needs `base_model` (the t = 0 end)") }
            let distinct = Set(models.map(\.path) + [base])
            guard distinct.count == 2 else { throw bad("models", "slerp merges exactly two models (base_model and one other); found \(distinct.count)") }
            guard parameters["t"] != nil || models.contains(where: { $0.parameters["t"] != nil }) else {
                throw bad("parameters.t", "slerp needs `t` (0 = base_model, 1 = the other model)")
            }
        default:
            guard baseModel != nil else { throw bad("base_model", "\(method.rawValue) adds task vectors to a base model; set `base_model`") }
            guard !contributors.isEmpty else { throw bad("models", "\(method.rawValue) needs at least one model besides base_model") }
        }
        if method != .slerp {
            for p in contributors where models.first(where: { $0.path == p })?.parameters["weight"] == nil && parameters["weight"] == nil {
                throw bad("models[\(models.firstIndex { $0.path == p }!)].parameters.weight", "\(method.rawValue) needs a weight for model '\(p)'")
            }
        }
        if let dtype, !["float32", "float16", "bfloat16", "fp32", "fp16", "bf16"].contains(dtype) {
            throw bad("dtype", "'\(dtype)' is not a float dtype; use float32 (we compute and write float32 in any case)")
        }
    }
}
