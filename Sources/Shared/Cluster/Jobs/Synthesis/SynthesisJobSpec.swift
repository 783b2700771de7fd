import Foundation
import Yams

/// A `kind: synthesize` cluster job as submitted: `uniguard synthesize` spread over the workers. Paths are resolved
/// against the job file; every setting is checked. `PreparedSynthesis.prepare` loads the policies.
public struct SynthesisJobSpec: Codable, Sendable, Equatable {
    public var name: String
    /// Bundled policy ids or policy YAML files (resolved paths), in the job file's order.
    public var policies: [String]
    /// Directory the ids are looked up in; nil: the bundled `policies/`.
    public var policyPack: String?
    /// Accepted samples per policy and label (as `uniguard synthesize --count`).
    public var count: Int
    public var endpoint: String
    public var model: String
    /// The environment variable each worker reads its API key from; the key never reaches the coordinator.
    public var apiKeyEnv: String?
    public var temperature: Double
    public var seed: UInt64
    /// Batches one worker runs at once (also bounded by its `--slots`).
    public var concurrency: Int
    /// Prompts asked for per generation request.
    public var batch: Int
    /// Self-reflection: "relabel", "drop", or nil (off).
    public var reflection: String?
    public var maxTokens: Int?
    public var requestTimeoutSeconds: Double
    public var maxRetries: Int
    /// Output samples JSONL; nil: `<exports>/<job-id>/samples.jsonl`.
    public var output: String?
    /// A (policy, label) whose last this-many batches added nothing fails the job (the model repeats itself).
    public var maxFruitlessBatches: Int
    /// Near-duplicate filtering by embedding on the coordinator (as `uniguard synthesize`); nil: exact dedup only
    /// (`embedding_dedup: false`, and jobs stored before the key existed).
    public var nearDuplicates: NearDuplicateSettings?
    /// `refine_policy`: after the samples, a worker asks the model for a revision of each policy from its
    /// disagreements; the coordinator writes it beside the output. nil: off (also jobs stored before the key).
    public var refinePolicy: Bool?

    /// Whether the job ends with policy refinement.
    public var refines: Bool { refinePolicy ?? false }
}

/// How a synthesize job finds near duplicates: cosine similarity of sentence embeddings (the corpus builder's
/// `NearDuplicateFilter`), computed by the coordinator itself so no worker's word decides what is a duplicate.
public struct NearDuplicateSettings: Codable, Sendable, Equatable {
    /// Similarity at or above which a prompt is a near duplicate of an accepted one (same policy and label).
    public var threshold: Float
    /// Accepted prompts per policy and label that new ones are compared with.
    public var window: Int
    /// The encoder directory; nil until `PreparedSynthesis.prepare` resolves the coordinator's cached base model.
    public var embedModel: String?
}

/// Reads `kind: synthesize` job YAML through Fusion's `SpecFields` (via `TrainingSpecFields`); an unknown key, a wrong
/// type or an out-of-range value is an error naming the file and the key.
public struct SynthesisSpecParser: Sendable {
    public init() {}

    public static let keys: [String: String] = [
        "kind": "synthesize",
        "name": "display name",
        "policies": "bundled policy ids or policy YAML files (relative to the job file)",
        "policy_pack": "directory the policy ids are looked up in (default: the bundled policies/)",
        "count": "accepted samples per policy and label",
        "endpoint": "API base of an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1",
        "model": "model name the server serves",
        "api_key_env": "environment variable on each WORKER holding the API key (never stored or sent)",
        "temperature": "sampling temperature of generation, 0...2 (default 0.9)",
        "seed": "run seed: every batch's request seed derives from it (default 0)",
        "concurrency": "batches one worker runs at once, also bounded by its --slots (default 4)",
        "batch": "prompts per generation request, 1...100 (default 8)",
        "reflection": "self-reflection: true (default) or false",
        "on_disagreement": "relabel (default) | drop: what happens to a sample the judge labels differently",
        "max_tokens": "max_tokens per request (default: the server's)",
        "timeout": "seconds one request may take (default 120)",
        "max_retries": "retries per request for 429, 5xx, timeouts, unusable replies (default 6)",
        "output": "output samples JSONL (default <exports>/<job-id>/samples.jsonl); must not exist yet",
        "max_fruitless_batches": "batches in a row adding nothing to a policy and label before the job fails (default 20)",
        "embedding_dedup": "near-duplicate filtering by embedding, done by the coordinator: true (default) or false (exact dedup only)",
        "near_dup_threshold": "cosine similarity at or above which a prompt is a near duplicate of an accepted one, (0, 1] (default 0.95)",
        "near_dup_window": "accepted prompts per policy and label that new ones are compared with, 0...100000 (default 1024)",
        "embed_model": "encoder directory the coordinator embeds prompts with (default: its cached all-MiniLM-L6-v2)",
        "refine_policy": "after the samples, ask the model to revise each policy from its disagreements; written beside the output (default false)",
    ]

    public func parse(yaml: String, source: String, baseDirectory: String) throws -> SynthesisJobSpec {
        let r = try TrainingSpecFields(yaml: yaml, source: source, baseDirectory: baseDirectory)
        guard try r.string("kind") == "synthesize" else { throw r.fail("kind", "expected synthesize") }
        for key in r.keys where Self.keys[key] == nil {
            throw r.fail(key, "unknown key (known for synthesize: \(Self.keys.keys.sorted().joined(separator: ", ")))")
        }
        let values: [String]
        switch r.top["policies"] {
        case nil: throw r.fail("policies", "missing: bundled policy ids or policy YAML files")
        case let node?:
            if let s = node.scalar, node.null == nil { values = [s.string] } else if let seq = node.sequence {
                values = try seq.enumerated().map { i, n in
                    guard let s = n.scalar, n.null == nil, !s.string.isEmpty else { throw r.fail("policies[\(i)]", "expected a policy id or YAML file") }
                    return s.string
                }
            } else { throw r.fail("policies", "expected a policy id, a YAML file, or a list of them") }
        }
        guard !values.isEmpty else { throw r.fail("policies", "empty list: give at least one policy") }
        let policies = values.map { Self.isPolicyFile($0) ? r.fields.resolve($0) : $0 }
        guard let count = try r.int("count", in: 1...10_000_000) else { throw r.fail("count", "missing: accepted samples per policy and label") }
        guard let endpoint = try r.string("endpoint") else { throw r.fail("endpoint", "missing: the API base, e.g. http://127.0.0.1:8080/v1") }
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw r.fail("endpoint", "'\(endpoint)' is not an http(s) URL such as http://127.0.0.1:8080/v1")
        }
        guard let model = try r.string("model"), !model.isEmpty else { throw r.fail("model", "missing: the model name the server serves") }
        let apiKeyEnv = try r.string("api_key_env")
        if let v = apiKeyEnv {
            guard !v.isEmpty, v.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }), !v.first!.isNumber else {
                throw r.fail("api_key_env", "'\(v)' is not an environment variable name (letters, digits, _): give the NAME of the variable, never the key")
            }
        }
        let reflect = try r.bool("reflection") ?? true
        let action = try r.choice("on_disagreement", ["relabel", "drop"]) ?? "relabel"
        if !reflect, r.top["on_disagreement"] != nil { throw r.fail("on_disagreement", "needs reflection: true") }
        let embedding = try r.bool("embedding_dedup") ?? true
        if !embedding {
            for key in ["near_dup_threshold", "near_dup_window", "embed_model"] where r.top[key] != nil {
                throw r.fail(key, "needs embedding_dedup: true (it is false here)")
            }
        }
        let threshold = try r.number("near_dup_threshold", "must be in (0, 1]", { $0 > 0 && $0 <= 1 }) ?? 0.95
        let window = try r.int("near_dup_window", in: 0...100_000) ?? 1024
        let refine = try r.bool("refine_policy") ?? false
        if refine, !reflect { throw r.fail("refine_policy", "needs reflection: true (the disagreements it works from come from self-reflection)") }
        return SynthesisJobSpec(
            name: try r.string("name") ?? (source as NSString).lastPathComponent, policies: policies,
            policyPack: try r.path("policy_pack"), count: count, endpoint: endpoint, model: model, apiKeyEnv: apiKeyEnv,
            temperature: try r.number("temperature", "must be in 0...2", { (0...2).contains($0) }) ?? 0.9,
            seed: UInt64(try r.int("seed", in: 0...Int.max) ?? 0),
            concurrency: try r.int("concurrency", in: 1...256) ?? 4,
            batch: try r.int("batch", in: 1...100) ?? 8,
            reflection: reflect ? action : nil,
            maxTokens: try r.int("max_tokens", in: 1...1_000_000),
            requestTimeoutSeconds: try r.number("timeout", "must be in (0, 3600] seconds", { $0 > 0 && $0 <= 3600 }) ?? 120,
            maxRetries: try r.int("max_retries", in: 0...100) ?? 6,
            output: try r.path("output"),
            maxFruitlessBatches: try r.int("max_fruitless_batches", in: 1...100_000) ?? 20,
            nearDuplicates: embedding ? NearDuplicateSettings(threshold: Float(threshold), window: window, embedModel: try r.path("embed_model")) : nil,
            refinePolicy: refine)
    }

    /// As `uniguard synthesize --policy`: a value naming a YAML file or a path is a file, anything else an id.
    public static func isPolicyFile(_ value: String) -> Bool {
        value.hasSuffix(".yaml") || value.hasSuffix(".yml") || value.contains("/")
    }
}
