import Foundation
import Runtime
import Yams

/// A merge-search job (`uniguard merge-search --config`, or `kind: merge-search` for the coordinator).
public struct MergeSearchConfig: Sendable {
    /// Candidate model directories (globs expanded), before top-k selection.
    public var candidates: [String]
    public var topK: Int
    public var policy: String?
    /// Validation samples (JSONL): the reward is F1 on them.
    public var validation: String
    public var methods: [MergeMethodKind]
    public var subsets: [ParameterSubset]
    public var strategies: [SearchStrategyKind]
    public var iterations: Int
    /// Arms in flight at once (the cluster's free slots; 1 locally).
    public var batch: Int
    public var seed: UInt64
    /// Base model for task-vector methods (TIES, DARE, task arithmetic); default: the cached base model.
    public var baseModel: String?
    public var path: String

    public init(candidates: [String], topK: Int, policy: String?, validation: String, methods: [MergeMethodKind],
                subsets: [ParameterSubset], strategies: [SearchStrategyKind], iterations: Int, batch: Int, seed: UInt64,
                baseModel: String?, path: String) {
        self.candidates = candidates
        self.topK = topK
        self.policy = policy
        self.validation = validation
        self.methods = methods
        self.subsets = subsets
        self.strategies = strategies
        self.iterations = iterations
        self.batch = batch
        self.seed = seed
        self.baseModel = baseModel
        self.path = path
    }

    static let keys: Set<String> = ["kind", "candidates", "top_k", "policy", "validation", "methods", "subsets", "strategy",
                                    "strategies", "iterations", "batch", "seed", "base_model"]

    /// Parses the YAML text; unknown keys and bad values are errors naming the file and key.
    public static func parse(yaml: String, path: String) throws -> MergeSearchConfig {
        func bad(_ key: String, _ why: String) -> Error { ModelError.badConfig(path: path, field: key, reason: why) }
        guard let root = try? Yams.load(yaml: yaml) as? [String: Any] else { throw bad("-", "not a YAML mapping") }
        for k in root.keys where !keys.contains(k) { throw bad(k, "unknown key (known: \(keys.sorted().joined(separator: ", ")))") }
        func strings(_ key: String) throws -> [String]? {
            guard let v = root[key] else { return nil }
            if let s = v as? String { return [s] }
            guard let a = v as? [Any], let s = a.map({ $0 as? String }) as? [String] else { throw bad(key, "expected a string or a list of strings") }
            return s
        }
        func int(_ key: String, _ def: Int) throws -> Int {
            guard let v = root[key] else { return def }
            guard let i = v as? Int, i > 0 else { throw bad(key, "expected a positive integer") }
            return i
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : dir.appendingPathComponent(p).path }
        guard let cands = try strings("candidates"), !cands.isEmpty else { throw bad("candidates", "missing: list model directories or globs") }
        let expanded = cands.flatMap { Glob.expand(resolve($0)) }
        guard expanded.count >= 2 else { throw bad("candidates", "\(cands) matched \(expanded.count) model directories; a merge needs at least 2") }
        guard let val = root["validation"] as? String else { throw bad("validation", "missing: a samples JSONL file to score arms on") }
        let methods = try (strings("methods") ?? ["linear", "ties", "slerp"]).map { m in
            guard let k = MergeMethodKind(rawValue: m) else { throw bad("methods", "unknown method '\(m)' (\(MergeMethodKind.allCases.map(\.rawValue).joined(separator: ", ")))") }
            return k
        }
        let subsets = try (strings("subsets") ?? ["all", "attention", "attention_output", "all_but_classifier"]).map { s in
            guard let k = ParameterSubset.Kind(rawValue: s) else { throw bad("subsets", "unknown subset '\(s)' (all, attention, attention_output, all_but_classifier)") }
            return ParameterSubset(k)
        }
        let strategies = try (strings("strategies") ?? strings("strategy") ?? ["thompson"]).map { s in
            guard let k = SearchStrategyKind(rawValue: s) else { throw bad("strategy", "unknown strategy '\(s)' (thompson, random, epsilon-greedy, ucb)") }
            return k
        }
        var seed: UInt64 = 0
        if let s = root["seed"] { guard let i = s as? Int, i >= 0 else { throw bad("seed", "expected a non-negative integer") }; seed = UInt64(i) }
        return MergeSearchConfig(candidates: expanded, topK: try int("top_k", 3), policy: root["policy"] as? String,
                                 validation: resolve(val), methods: methods, subsets: subsets, strategies: strategies,
                                 iterations: try int("iterations", 30), batch: try int("batch", 1), seed: seed,
                                 baseModel: (root["base_model"] as? String).map(resolve), path: path)
    }

    public static func load(path: String) throws -> MergeSearchConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ModelError.missingFile(path: path, hint: "the merge-search config file")
        }
        return try parse(yaml: text, path: path)
    }
}

/// Shell-style `*`/`?` expansion of the last path components, sorted; a path without wildcards is kept as is.
public enum Glob {
    public static func expand(_ pattern: String) -> [String] {
        guard pattern.contains("*") || pattern.contains("?") else { return [pattern] }
        var g = glob_t()
        defer { globfree(&g) }
        guard glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
