import EncoderModel
/// Everything needed to produce one output tensor, resolved from the config before any tensor is computed
/// (so a bad parameter fails fast and names the tensor).
struct TensorRecipe: Sendable {
    let name: String
    let shape: [Int]
    let isFloat: Bool
    /// In the subset: computed by the merge method; otherwise copied from the top-1 model.
    let merged: Bool
    /// Per contributor (see `MergeConfig.contributors`).
    var weights: [Float] = []
    var densities: [Double] = []
    var gammas: [Double] = []
    var normalize = false
    var lambda: Float = 1
    var t: Double = 0
    var rescale: RescaleRule = .none
    /// Task-vector methods: the base model's name for this tensor; nil when the base lacks it (then the tensor
    /// is the normalised weighted average of the models).
    var baseName: String?

    var count: Int { shape.reduce(1, *) }

    static func resolve(_ config: MergeConfig, entry: SafetensorsEntry, layerCount: Int, baseName: String? = nil) throws -> TensorRecipe {
        let name = entry.name
        let isFloat = ModelCompatibility.isFloat(entry.dtype)
        var r = TensorRecipe(name: name, shape: entry.shape, isFloat: isFloat,
                             merged: isFloat && config.subset.contains(name))
        guard r.merged else { return r }
        let t = LayerPosition.t(for: name, layerCount: layerCount)
        let method = config.method

        func value(_ key: String, _ model: String?) -> ParameterValue? { config.value(key, model: model, tensor: name, t: t) }
        func number(_ key: String, _ model: String?, default d: Double?) throws -> Double {
            guard let v = value(key, model) else {
                if let d { return d }
                let whose = model.map { " for model '\($0)'" } ?? ""
                throw MergeError.badParameter(name: key, tensor: name, reason: "missing\(whose); no condition matched this tensor, add a catch-all `{value: …}` entry")
            }
            guard let x = v.double, x.isFinite else {
                throw MergeError.badParameter(name: key, tensor: name, reason: "expected a finite number, got \(v)")
            }
            return x
        }
        func flag(_ key: String, default d: Bool) throws -> Bool {
            guard let v = value(key, nil) else { return d }
            guard let b = v.bool else { throw MergeError.badParameter(name: key, tensor: name, reason: "expected true or false, got \(v)") }
            return b
        }

        switch method {
        case .slerp:
            r.t = try number("t", nil, default: nil)
        case .linear:
            r.weights = try config.contributors.map { Float(try number("weight", $0, default: nil)) }
            r.normalize = try flag("normalize", default: method.defaultNormalize)
            if r.normalize, r.weights.reduce(0, +) == 0 {
                throw MergeError.badParameter(name: "weight", tensor: name, reason: "weights sum to 0, so normalising divides by zero; change the weights or set normalize: false")
            }
        default:
            for m in config.contributors {
                r.weights.append(Float(try number("weight", m, default: nil)))
                let density = try number("density", m, default: 1)
                guard density >= 0 else { throw MergeError.badParameter(name: "density", tensor: name, reason: "\(density) is negative; use a fraction in (0, 1]") }
                r.densities.append(density)
                let gamma = try number("gamma", m, default: 0.01)
                guard (0...1).contains(gamma) else { throw MergeError.badParameter(name: "gamma", tensor: name, reason: "\(gamma) is outside [0, 1]") }
                r.gammas.append(gamma)
            }
            r.normalize = try flag("normalize", default: method.defaultNormalize)
            r.lambda = Float(try number("lambda", nil, default: 1))
            r.rescale = try rescaleRule(value("rescale", nil), method: method, tensor: name)
            r.baseName = baseName
            if baseName == nil, r.weights.reduce(0, +) == 0 {
                throw MergeError.badParameter(name: "weight", tensor: name, reason: "the base model lacks this tensor, so it is the weighted average of the models, but the weights sum to 0")
            }
        }
        return r
    }

    /// `rescale`: true means the method's natural rule (DARE: 1/density; magnitude trims: L1 norm, as mergekit);
    /// `l1`/`l2`/`linf`/`density` pick one explicitly. Default: DARE rescales by 1/density, the others do not.
    static func rescaleRule(_ v: ParameterValue?, method: MergeMethodKind, tensor: String) throws -> RescaleRule {
        let natural: RescaleRule = method.sparsification == .random ? .inverseDensity : .l1
        guard let v else { return method.sparsification == .random ? .inverseDensity : .none }
        if case .text(let s) = v {
            switch s.lowercased() {
            case "l1": return .l1
            case "l2": return .l2
            case "linf": return .linf
            case "density", "inverse_density": return .inverseDensity
            case "none": return .none
            default: break
            }
        }
        guard let b = v.bool else {
            throw MergeError.badParameter(name: "rescale", tensor: tensor, reason: "expected true, false, l1, l2, linf or density; got \(v)")
        }
        return b ? natural : .none
    }
}
