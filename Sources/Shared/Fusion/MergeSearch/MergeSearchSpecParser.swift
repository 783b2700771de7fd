import Foundation
import Runtime
import Yams

/// Reads merge-search YAML, the one format of `uniguard merge-search --config` and `kind: merge-search` jobs.
/// Errors are `MergeError.badConfig` naming the file and the key; relative paths resolve against the file.
public struct MergeSearchSpecParser: Sendable {
    /// Who runs the spec: the format is the same, but a cluster job has extra keys and runs one strategy.
    public enum Purpose: Sendable {
        case localRun
        case clusterJob
    }

    public let purpose: Purpose

    public init(_ purpose: Purpose) { self.purpose = purpose }

    /// Keys every merge-search file may use, and what they mean.
    public static let searchKeys: [String: String] = [
        "kind": "merge-search",
        "candidates": "candidate model directories or globs (ranked by validation F1)",
        "top_k": "candidates kept after ranking (default 3)",
        "policy": "policy whose validation samples count (default: the first candidate's)",
        "validation": "validation JSONL path",
        "methods": "merge methods, e.g. [linear, ties] (default linear, ties, slerp)",
        "subsets": "parameter subsets, e.g. [all, attention] (default all four)",
        "strategy": "thompson | random | epsilon-greedy | ucb",
        "strategies": "like strategy, one search each; a cluster job runs exactly one",
        "iterations": "arms to evaluate (default 30)",
        "batch": "most arms in flight on a cluster (0: free slots)",
        "seed": "random seed",
        "base_model": "base model directory for task-vector methods (default: the cached base model)",
    ]

    /// Keys only a cluster job reads.
    public static let clusterKeys: [String: String] = [
        "name": "display name",
        "method_parameters": "per method fixed parameters, e.g. {ties: {density: 0.5}}",
        "validation_shards": "shards per arm (their counts are summed)",
        "policy_instruction": "instruction sent with each task",
        "threshold": "decision threshold sent with each task",
        "baseline_f1": "success threshold before any result",
        "evaluator": "classifier | weight-sign",
        "evaluator_options": "evaluator knobs, e.g. {min_ms: 200}",
        "output": "directory the best arm is exported to",
    ]

    /// Reads the file at `path` (relative paths resolve against its directory).
    public func load(path: String) throws -> MergeSearchSpec {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ModelError.missingFile(path: path, hint: "the merge-search config file")
        }
        return try parse(yaml: text, source: path, baseDirectory: URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    /// Parses YAML text; `source` names it in errors and `baseDirectory` anchors relative paths.
    public func parse(yaml: String, source: String, baseDirectory: String) throws -> MergeSearchSpec {
        let r = try SpecFields(yaml: yaml, source: source, baseDirectory: baseDirectory)
        let known = purpose == .clusterJob ? Self.searchKeys.merging(Self.clusterKeys) { a, _ in a } : Self.searchKeys
        for key in r.keys where known[key] == nil {
            if Self.clusterKeys[key] != nil {
                throw r.fail(key, "only a cluster job (coordinator submit) reads this key; uniguard merge-search does not")
            }
            throw r.fail(key, "unknown key (known: \(known.keys.sorted().joined(separator: ", ")))")
        }
        let kind = try r.string("kind") ?? "merge-search"
        guard kind == "merge-search" else { throw r.fail("kind", "'\(kind)' is not supported here; use merge-search") }

        guard let listed = try r.paths("candidates"), !listed.isEmpty else {
            throw r.fail("candidates", "missing: list model directories or globs")
        }
        let candidates = listed.flatMap { Glob.expand($0) }
        guard candidates.count >= 2 else {
            throw r.fail("candidates", "\(listed) matched \(candidates.count) model directories; a merge needs at least 2")
        }
        guard let validation = try r.path("validation") else {
            throw r.fail("validation", "missing: a samples JSONL file to score arms on")
        }
        var spec = MergeSearchSpec(name: try r.string("name") ?? (source as NSString).lastPathComponent,
                                   candidates: candidates, validation: validation)
        spec.topK = try r.int("top_k", atLeast: 1) ?? spec.topK
        spec.policy = try r.string("policy")
        spec.methods = try r.strings("methods").map { try methods($0, r) } ?? spec.methods
        spec.subsets = try r.subsets("subsets") ?? spec.subsets
        spec.methodParameters = try r.nestedNumbers("method_parameters") ?? [:]
        for key in spec.methodParameters.keys where MergeMethodKind(rawValue: key) == nil {
            throw r.fail("method_parameters", "'\(key)' is not a merge method")
        }
        spec.strategies = try strategies(r)
        if let n = try r.int("iterations", atLeast: 1) {
            // Each arm is a merge and an evaluation: more than this is a typo (1e12), not a search.
            guard n <= MergeSearchSpec.mostIterations else {
                throw r.fail("iterations", "must be in 1...\(MergeSearchSpec.mostIterations)")
            }
            spec.iterations = n
        }
        spec.batch = try r.int("batch", atLeast: 0) ?? spec.batch
        spec.seed = try r.int("seed", atLeast: 0).map { UInt64($0) } ?? spec.seed
        // The base model only travels to workers (and is only hashed) when a method needs it.
        let base = try r.path("base_model")
        spec.baseModel = spec.needsBaseModel ? base ?? UniGuardHome.baseModel.path : nil

        if let n = try r.int("validation_shards", atLeast: 1) {
            guard n <= 4096 else { throw r.fail("validation_shards", "must be in 1...4096") }
            spec.validationShards = n
        }
        spec.policyInstruction = try r.string("policy_instruction") ?? ""
        if let t = try r.number("threshold") {
            guard (0...1).contains(t) else { throw r.fail("threshold", "must be in [0, 1]") }
            spec.threshold = t
        }
        spec.baselineF1 = try r.number("baseline_f1")
        spec.evaluator = try r.string("evaluator") ?? spec.evaluator
        spec.evaluatorOptions = try r.numbers("evaluator_options") ?? [:]
        spec.output = try r.path("output")
        do { try spec.searchSpace(candidates: candidates, instructionCount: 1).validate() } catch {
            throw r.fail("(search space)", "\(error)")
        }
        return spec
    }

    private func methods(_ names: [String], _ r: SpecFields) throws -> [MergeMethodKind] {
        let kinds = try names.map { name in
            guard let m = MergeMethodKind(rawValue: name) else {
                throw r.fail("methods", "unknown method '\(name)' (\(MergeMethodKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return m
        }
        guard Set(kinds).count == kinds.count, !kinds.isEmpty else { throw r.fail("methods", "list each method once") }
        return kinds
    }

    /// `strategy` or `strategies` (not both); a cluster job runs exactly one, so one job per strategy.
    private func strategies(_ r: SpecFields) throws -> [SearchStrategyKind] {
        let key = r.has("strategies") ? "strategies" : "strategy"
        if r.has("strategies"), r.has("strategy") { throw r.fail("strategies", "give strategy or strategies, not both") }
        guard let names = try r.strings(key) else { return [.thompson] }
        let kinds = try names.map { name in
            guard let s = SearchStrategyKind(rawValue: name) else {
                throw r.fail(key, "unknown strategy '\(name)' (\(SearchStrategyKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return s
        }
        guard Set(kinds).count == kinds.count, !kinds.isEmpty else { throw r.fail(key, "list each strategy once") }
        if purpose == .clusterJob, kinds.count != 1 {
            throw r.fail(key, "a cluster job runs one strategy; submit one job per strategy")
        }
        return kinds
    }
}
