import Foundation

/// One scalar value of a merge parameter after evaluation for a tensor.
public enum ParameterValue: Sendable, Equatable, Hashable {
    case number(Double)
    case bool(Bool)
    case text(String)

    /// Numbers as themselves, booleans as 1/0 (mergekit's YAML allows either for flags).
    public var double: Double? {
        switch self {
        case .number(let d): return d
        case .bool(let b): return b ? 1 : 0
        case .text: return nil
        }
    }

    public var bool: Bool? {
        switch self {
        case .bool(let b): return b
        case .number(let d): return d != 0
        case .text(let s):
            switch s.lowercased() { case "true", "yes", "on": return true; case "false", "no", "off": return false; default: return nil }
        }
    }

    var jsonObject: Any {
        switch self {
        case .number(let d): return d
        case .bool(let b): return b
        case .text(let s): return s
        }
    }
}

/// A parameter as written in mergekit YAML: a scalar, a per-layer gradient, or a list of name-filtered conditions.
public indirect enum ParameterSetting: Sendable, Equatable, Hashable {
    case scalar(ParameterValue)
    /// Values spread evenly over the layer stack and linearly interpolated (mergekit `weight: [0.2, 0.5, 0.8]`).
    case gradient([Double])
    /// First condition whose filter matches the tensor name wins; a condition without filter matches all.
    case conditional([Condition])

    /// One `{filter: …, value: …}` entry.
    public struct Condition: Sendable, Equatable, Hashable {
        public let filter: NamePattern?
        public let value: ParameterSetting
        public init(filter: NamePattern?, value: ParameterSetting) { self.filter = filter; self.value = value }
    }

    public static func number(_ d: Double) -> ParameterSetting { .scalar(.number(d)) }

    /// mergekit's `evaluate_setting`: the value for `tensor` at gradient position `t`, nil if no condition matches.
    public func evaluate(tensor: String, t: Double) -> ParameterValue? {
        switch self {
        case .scalar(let v): return v
        case .gradient(let values):
            guard !values.isEmpty else { return nil }
            let scaled = t * Double(values.count - 1)
            let i0 = min(Int(scaled), values.count - 1)
            let i1 = min(values.count - 1, i0 + 1)
            let frac = scaled - Double(i0)
            return .number((1 - frac) * values[i0] + frac * values[i1])
        case .conditional(let conditions):
            for c in conditions where c.filter.map({ $0.matches(tensor) }) ?? true {
                return c.value.evaluate(tensor: tensor, t: t)
            }
            return nil
        }
    }

    /// The setting as JSON (for provenance), in mergekit's YAML shape.
    public var jsonObject: Any {
        switch self {
        case .scalar(let v): return v.jsonObject
        case .gradient(let values): return values
        case .conditional(let conditions):
            return conditions.map { c -> [String: Any] in
                var d: [String: Any] = ["value": c.value.jsonObject]
                if let f = c.filter { d["filter"] = f.description }
                return d
            }
        }
    }
}
