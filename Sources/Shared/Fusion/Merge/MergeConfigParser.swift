import Foundation
import Yams

extension MergeConfig {
    /// Reads a YAML merge config. Relative model paths resolve against the working directory, or against the
    /// config's own directory when they do not exist there (so a config next to its models works from anywhere).
    public static func load(path: String) throws -> MergeConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw MergeError.badConfig(file: path, key: "(file)", reason: "cannot read: \(error.localizedDescription)")
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(yaml: text, source: path, resolvingPathsFrom: dir)
    }

    /// Parses YAML text; `source` names it in errors; `resolvingPathsFrom` is the fallback directory for relative paths.
    public static func parse(yaml: String, source: String = "<config>", resolvingPathsFrom dir: String? = nil) throws -> MergeConfig {
        let reader = YAMLReader(source: source)
        let root: Node
        do {
            guard let r = try Yams.compose(yaml: yaml) else { throw reader.error("(document)", "the file is empty") }
            root = r
        } catch let e as MergeError { throw e } catch {
            throw reader.error("(document)", "not valid YAML: \(error)")
        }
        guard let top = root.mapping else { throw reader.error("(document)", "expected a mapping with `merge_method` and `models`") }
        let known: Set<String> = ["merge_method", "models", "base_model", "parameters", "dtype", "out_dtype", "subset",
                                  "top_model", "random_seed"]
        for (k, _) in top {
            let key = k.string ?? "?"
            if !known.contains(key) {
                let hint = ["slices", "modules", "tokenizer_source", "tokenizer", "chat_template"].contains(key)
                    ? "mergekit's `\(key)` is not supported (the tokenizer and config come from the top-1 model)"
                    : "unknown key; known: \(known.sorted().joined(separator: ", "))"
                throw reader.error(key, hint)
            }
        }
        func resolve(_ p: String) -> String {
            if p.hasPrefix("/") || FileManager.default.fileExists(atPath: p) { return p }
            if let dir {
                let alt = URL(fileURLWithPath: dir).appendingPathComponent(p).path
                if FileManager.default.fileExists(atPath: alt) { return alt }
            }
            return p
        }

        guard let methodNode = top["merge_method"] else { throw reader.error("merge_method", "missing; one of \(MergeMethodKind.allCases.map(\.rawValue).joined(separator: ", "))") }
        let methodName = try reader.string(methodNode, "merge_method")
        guard let method = MergeMethodKind(rawValue: methodName) else {
            throw reader.error("merge_method", "'\(methodName)' is not supported; use one of \(MergeMethodKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let modelsNode = top["models"] else { throw reader.error("models", "missing; list the models as `- model: PATH`") }
        guard let modelSeq = modelsNode.sequence else { throw reader.error("models", "expected a list of `- model: PATH` entries") }
        var models: [Input] = []
        for (i, entry) in modelSeq.enumerated() {
            let key = "models[\(i)]"
            if let s = entry.scalar { models.append(Input(path: resolve(s.string))); continue }
            guard let m = entry.mapping else { throw reader.error(key, "expected `model: PATH` with optional `parameters`") }
            guard let pathNode = m["model"] else { throw reader.error(key + ".model", "missing model path") }
            let path = resolve(try reader.string(pathNode, key + ".model"))
            var params: [String: ParameterSetting] = [:]
            if let p = m["parameters"] { params = try reader.settings(p, key + ".parameters") }
            for (k, _) in m where !["model", "parameters"].contains(k.string ?? "") {
                throw reader.error(key + "." + (k.string ?? "?"), "unknown key; a model entry has `model` and `parameters`")
            }
            models.append(Input(path: path, parameters: params))
        }
        var config = MergeConfig(method: method, models: models, source: source)
        if let b = top["base_model"] { config.baseModel = resolve(try reader.string(b, "base_model")) }
        if let p = top["parameters"] { config.parameters = try reader.settings(p, "parameters") }
        if let d = top["dtype"] { config.dtype = try reader.string(d, "dtype") }
        if config.dtype == nil, let d = top["out_dtype"] { config.dtype = try reader.string(d, "out_dtype") }
        if let s = top["subset"] { config.subset = try reader.subset(s, "subset") }
        if let t = top["top_model"] { config.topModel = resolve(try reader.string(t, "top_model")) }
        if let r = top["random_seed"] {
            guard let n = r.int, n >= 0 else { throw reader.error("random_seed", "expected a non-negative integer") }
            config.randomSeed = UInt64(n)
        }
        try config.validate()
        return config
    }
}

/// Typed access to YAML nodes with errors that name the file and the key path.
public struct YAMLReader {
    let source: String

    public init(source: String) { self.source = source }

    func error(_ key: String, _ reason: String) -> MergeError { .badConfig(file: source, key: key, reason: reason) }

    func string(_ node: Node, _ key: String) throws -> String {
        guard let s = node.scalar, node.null == nil else { throw error(key, "expected a string") }
        return s.string
    }

    func scalar(_ node: Node, _ key: String) throws -> ParameterValue {
        guard node.scalar != nil else { throw error(key, "expected a number, boolean or string") }
        switch node.any {
        case let b as Bool: return .bool(b)
        case let i as Int: return .number(Double(i))
        case let d as Double: return .number(d)
        case let s as String: return .text(s)
        default: throw error(key, "expected a number, boolean or string, not null")
        }
    }

    func settings(_ node: Node, _ key: String) throws -> [String: ParameterSetting] {
        guard let m = node.mapping else { throw error(key, "expected a mapping of parameter names to values") }
        var out: [String: ParameterSetting] = [:]
        for (k, v) in m {
            guard let name = k.string else { throw error(key, "parameter names must be strings") }
            out[name] = try setting(v, key + "." + name)
        }
        return out
    }

    /// mergekit's ParameterSetting: scalar | [numbers] (gradient) | {filter, value} | [{filter, value}, …].
    func setting(_ node: Node, _ key: String) throws -> ParameterSetting {
        if node.scalar != nil { return .scalar(try scalar(node, key)) }
        if node.mapping != nil { return .conditional([try condition(node, key)]) }
        guard let seq = node.sequence, !seq.isEmpty else { throw error(key, "expected a value, a list of numbers or a list of {filter, value}") }
        if seq.allSatisfy({ $0.scalar != nil }) {
            var values: [Double] = []
            for (i, n) in seq.enumerated() {
                guard let d = try scalar(n, "\(key)[\(i)]").double, !(n.any is Bool) else {
                    throw error("\(key)[\(i)]", "a gradient is a list of numbers")
                }
                values.append(d)
            }
            return .gradient(values)
        }
        guard seq.allSatisfy({ $0.mapping != nil }) else { throw error(key, "do not mix numbers and {filter, value} entries in one list") }
        return .conditional(try seq.enumerated().map { try condition($1, "\(key)[\($0)]") })
    }

    func condition(_ node: Node, _ key: String) throws -> ParameterSetting.Condition {
        guard let m = node.mapping else { throw error(key, "expected {filter: NAME, value: V}") }
        guard let v = m["value"] else { throw error(key + ".value", "missing; a condition is {filter: NAME, value: V}") }
        var filter: NamePattern?
        if let f = m["filter"] {
            do { filter = try NamePattern(try string(f, key + ".filter")) } catch let e as MergeError {
                throw error(key + ".filter", e.description)
            }
        }
        for (k, _) in m where !["value", "filter"].contains(k.string ?? "") {
            throw error(key + "." + (k.string ?? "?"), "unknown key; a condition has `filter` and `value`")
        }
        return ParameterSetting.Condition(filter: filter, value: try setting(v, key + ".value"))
    }

    /// `subset: attention` or `subset: {kind: all, include: [self_attn], exclude: ["/layer\\.0\\./"]}`.
    public func subset(_ node: Node, _ key: String) throws -> ParameterSubset {
        let kinds = ParameterSubset.Kind.allCases.map(\.rawValue).joined(separator: ", ")
        func kind(_ n: Node, _ k: String) throws -> ParameterSubset.Kind {
            let name = try string(n, k)
            guard let kind = ParameterSubset.Kind(rawValue: name) else { throw error(k, "'\(name)' is not a subset; use one of \(kinds)") }
            return kind
        }
        if node.scalar != nil { return ParameterSubset(try kind(node, key)) }
        guard let m = node.mapping else { throw error(key, "expected a subset name (\(kinds)) or {kind, include, exclude}") }
        var subset = ParameterSubset.all
        for (k, v) in m {
            let name = k.string ?? "?"
            switch name {
            case "kind", "type": subset.kind = try kind(v, key + "." + name)
            case "include", "filter": subset.include += try patterns(v, key + "." + name)
            case "exclude": subset.exclude += try patterns(v, key + "." + name)
            default: throw error(key + "." + name, "unknown key; a subset has `kind`, `include` (or `filter`) and `exclude`")
            }
        }
        return subset
    }

    func patterns(_ node: Node, _ key: String) throws -> [NamePattern] {
        let texts: [String]
        if node.scalar != nil { texts = [try string(node, key)] } else if let seq = node.sequence {
            texts = try seq.enumerated().map { try string($1, "\(key)[\($0)]") }
        } else { throw error(key, "expected a name filter or a list of them (substring, or /regex/)") }
        return try texts.map { t in
            do { return try NamePattern(t) } catch let e as MergeError { throw error(key, e.description) }
        }
    }
}
