import Foundation
import Fusion
import Yams

/// The seam through which the coordinator turns a submitted job YAML into a runnable spec.
///
/// TODO(lead): plug the `uniguard merge-search` config reader in here (a type conforming to this protocol,
/// passed to the coordinator in `ServeCommand`), so a cluster job and a local run read the same YAML.
public protocol JobSpecParsing: Sendable {
    /// Parses a job file; relative paths resolve against `baseDirectory`.
    func parse(yaml: String, baseDirectory: String, source: String) throws -> MergeSearchJobSpec
}

/// A submitted job that cannot run; the message names the key.
public struct JobSpecError: Error, CustomStringConvertible, Equatable {
    public var source: String
    public var key: String
    public var reason: String

    public init(source: String, key: String, reason: String) {
        self.source = source
        self.key = key
        self.reason = reason
    }

    public var description: String { "\(source): \(key): \(reason)" }
}

/// Reads a merge-search job: the `uniguard merge-search` YAML (`MergeSearchConfig` keys) plus the cluster's
/// own keys, all documented in `knownKeys`.
public struct MergeSearchJobSpecParser: JobSpecParsing {
    public init() {}

    /// Keys of a merge-search job file and what they mean.
    public static let knownKeys: [String: String] = [
        "kind": "merge-search",
        "name": "display name",
        "candidates": "candidate model directories or globs (ranked by validation F1 for the classifier evaluator)",
        "top_k": "candidates kept after ranking (default 3)",
        "policy": "policy whose validation samples count (default: the top-1 candidate's)",
        "strategies": "like strategy; a cluster job runs exactly one",
        "base_model": "base model directory (task-vector methods)",
        "methods": "merge methods, e.g. [linear, ties]",
        "subsets": "parameter subsets, e.g. [all, attention]",
        "method_parameters": "per method fixed parameters, e.g. {ties: {density: 0.5}}",
        "strategy": "thompson | random | epsilon-greedy | ucb",
        "iterations": "arms to evaluate",
        "batch": "most arms in flight (0: free slots)",
        "seed": "random seed",
        "validation": "validation JSONL path",
        "validation_shards": "shards per arm (their counts are summed)",
        "policy_instruction": "instruction prepended at evaluation",
        "threshold": "decision threshold",
        "baseline_f1": "success threshold before any result",
        "evaluator": "classifier | weight-sign",
        "evaluator_options": "evaluator knobs, e.g. {min_ms: 200}",
        "output": "directory the best arm is exported to",
    ]

    public func parse(yaml: String, baseDirectory: String, source: String) throws -> MergeSearchJobSpec {
        func fail(_ key: String, _ reason: String) -> JobSpecError { JobSpecError(source: source, key: key, reason: reason) }
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch { throw fail("(document)", "not valid YAML: \(error)") }
        guard let top = root?.mapping else { throw fail("(document)", "expected a mapping with `kind: merge-search`") }
        for (k, _) in top where Self.knownKeys[k.string ?? ""] == nil {
            throw fail(k.string ?? "?", "unknown key; known: \(Self.knownKeys.keys.sorted().joined(separator: ", "))")
        }
        let r = Fields(top: top, source: source, baseDirectory: baseDirectory)
        let kind = try r.string("kind") ?? "merge-search"
        guard kind == "merge-search" else {
            throw fail("kind", "'\(kind)' jobs are not supported by this coordinator yet; use merge-search")
        }
        guard let listed = try r.paths("candidates"), !listed.isEmpty else {
            throw fail("candidates", "missing; list the candidate model directories, best first")
        }
        let candidates = listed.flatMap { Glob.expand($0) }
        guard !candidates.isEmpty else { throw fail("candidates", "\(listed) matched no model directories") }
        guard let iterations = try r.int("iterations") else { throw fail("iterations", "missing; how many arms to evaluate") }
        guard iterations >= 1 else { throw fail("iterations", "must be at least 1") }
        guard let validation = try r.path("validation") else { throw fail("validation", "missing; the validation JSONL") }

        var spec = MergeSearchJobSpec(name: try r.string("name") ?? ((source as NSString).lastPathComponent),
                                      candidates: candidates, iterations: iterations, validation: validation)
        spec.baseModel = try r.path("base_model")
        if let names = try r.strings("methods") {
            spec.methods = try names.map { name in
                guard let m = MergeMethodKind(rawValue: name) else {
                    throw fail("methods", "'\(name)' is not a merge method; use \(MergeMethodKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return m
            }
        }
        if let node = top["subsets"] {
            guard let seq = node.sequence ?? (node.scalar != nil ? [node] : nil) else { throw fail("subsets", "expected a list") }
            do {
                spec.subsets = try seq.enumerated().map { try YAMLReader(source: source).subset($1, "subsets[\($0)]") }
            } catch let error as MergeError { throw fail("subsets", error.description) }
        }
        spec.methodParameters = try r.nestedNumbers("method_parameters") ?? [:]
        if let names = try r.strings("strategies") {
            guard names.count == 1, top["strategy"] == nil else {
                throw fail("strategies", "a cluster job runs one strategy; submit one job per strategy")
            }
        }
        if let name = try r.string("strategy") ?? r.strings("strategies")?.first {
            guard let s = SearchStrategyKind(rawValue: name) else {
                throw fail("strategy", "'\(name)' is not a strategy; use \(SearchStrategyKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            spec.strategy = s
        }
        if let b = try r.int("batch") {
            guard b >= 0 else { throw fail("batch", "must be 0 (free slots) or more") }
            spec.batch = b
        }
        if let s = try r.int("seed") {
            guard s >= 0 else { throw fail("seed", "must be non-negative") }
            spec.seed = UInt64(s)
        }
        if let n = try r.int("validation_shards") {
            guard (1...4096).contains(n) else { throw fail("validation_shards", "must be in 1...4096") }
            spec.validationShards = n
        }
        spec.policyInstruction = try r.string("policy_instruction") ?? ""
        if let t = try r.number("threshold") {
            guard (0...1).contains(t) else { throw fail("threshold", "must be in [0, 1]") }
            spec.threshold = t
        }
        spec.baselineF1 = try r.number("baseline_f1")
        spec.evaluator = try r.string("evaluator") ?? MergeSearchJobSpec.defaultEvaluator
        spec.evaluatorOptions = try r.numbers("evaluator_options") ?? [:]
        spec.output = try r.path("output")
        spec.policy = try r.string("policy")
        if let k = try r.int("top_k") {
            guard k >= 1 else { throw fail("top_k", "must be at least 1") }
            spec.topK = k
        }
        do { try spec.searchSpace.validate() } catch { throw fail("(search space)", "\(error)") }
        return spec
    }
}

/// Typed YAML field access for the job parser; errors name the key.
private struct Fields {
    let top: Node.Mapping
    let source: String
    let baseDirectory: String

    func fail(_ key: String, _ reason: String) -> JobSpecError { JobSpecError(source: source, key: key, reason: reason) }

    func string(_ key: String) throws -> String? {
        guard let node = top[key] else { return nil }
        guard let s = node.scalar, node.null == nil else { throw fail(key, "expected a string") }
        return s.string
    }

    func int(_ key: String) throws -> Int? {
        guard let node = top[key] else { return nil }
        guard let i = node.int, !(node.any is Bool) else { throw fail(key, "expected an integer") }
        return i
    }

    func number(_ key: String) throws -> Double? {
        guard let node = top[key] else { return nil }
        guard let d = node.float ?? node.int.map { Double($0) }, d.isFinite else {
            throw fail(key, "expected a number")
        }
        return d
    }

    func strings(_ key: String) throws -> [String]? {
        guard let node = top[key] else { return nil }
        if let s = node.scalar { return [s.string] }
        guard let seq = node.sequence else { throw fail(key, "expected a list of strings") }
        return try seq.enumerated().map { i, n in
            guard let s = n.scalar else { throw fail("\(key)[\(i)]", "expected a string") }
            return s.string
        }
    }

    func path(_ key: String) throws -> String? { try string(key).map(resolve) }

    func paths(_ key: String) throws -> [String]? { try strings(key)?.map(resolve) }

    func resolve(_ path: String) -> String {
        if path.hasPrefix("/") || baseDirectory.isEmpty { return path }
        return URL(fileURLWithPath: baseDirectory).appendingPathComponent(path).standardizedFileURL.path
    }

    func numbers(_ key: String) throws -> [String: Double]? {
        guard let node = top[key] else { return nil }
        return try numberMap(node, key)
    }

    func nestedNumbers(_ key: String) throws -> [String: [String: Double]]? {
        guard let node = top[key] else { return nil }
        guard let m = node.mapping else { throw fail(key, "expected a mapping of method names to parameters") }
        var out: [String: [String: Double]] = [:]
        for (k, v) in m {
            let name = k.string ?? "?"
            out[name] = try numberMap(v, "\(key).\(name)")
        }
        return out
    }

    private func numberMap(_ node: Node, _ key: String) throws -> [String: Double] {
        guard let m = node.mapping else { throw fail(key, "expected a mapping of names to numbers") }
        var out: [String: Double] = [:]
        for (k, v) in m {
            let name = k.string ?? "?"
            guard let d = v.float ?? v.int.map { Double($0) }, d.isFinite else {
                throw fail("\(key).\(name)", "expected a number")
            }
            out[name] = d
        }
        return out
    }
}
