import Foundation
import Training

/// A `kind: pretrain` or `kind: finetune` cluster job as submitted: paths resolved against the job file, every
/// setting checked. `PreparedTraining.prepare` turns it into blobs and a step count.
public struct TrainingJobSpec: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case pretrain
        case finetune
    }

    public var kind: Kind
    public var name: String
    /// Workers that must be present before the first generation starts.
    public var workers: Int
    /// Final model directory; nil: `<exports>/<job-id>/model`.
    public var output: String?
    /// Base model directory; nil: the cached base model (`UniGuardHome.baseModel`).
    public var base: String?
    /// Pretrain: the GIP corpus. Finetune: the training samples.
    public var data: String
    /// Finetune: validation samples (optional).
    public var validation: String?
    /// Pretrain: the settings of `uniguard pretrain` (global batch).
    public var pretrain: PretrainOptions?
    /// Finetune: the settings of `uniguard train`, snake_case keys to JSON values (global batch). Encoded as an object
    /// because the Codable fine-tuning settings type lives on the training helper's branch (h-train-dp).
    public var finetune: [String: FinetuneValue]?
    public var rendezvousTimeoutMs: Int
    public var collectiveTimeoutMs: Int

    /// A fine-tuning setting's value (JSON scalar).
    public enum FinetuneValue: Codable, Sendable, Equatable {
        case int(Int)
        case number(Double)
        case text(String)
        case flag(Bool)

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .flag(b) } else if let i = try? c.decode(Int.self) { self = .int(i) }
            else if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .int(let i): try c.encode(i)
            case .number(let d): try c.encode(d)
            case .text(let s): try c.encode(s)
            case .flag(let b): try c.encode(b)
            }
        }

        var intValue: Int? { if case .int(let i) = self { i } else { nil } }
        var textValue: String? { if case .text(let s) = self { s } else { nil } }
    }

    /// The global batch.
    public var batch: Int { pretrain?.batch ?? finetune?["batch"]?.intValue ?? 16 }
    public var maxLength: Int { pretrain?.maxLength ?? finetune?["max_length"]?.intValue ?? 128 }
    public var checkpointEvery: Int { pretrain?.checkpointEvery ?? finetune?["checkpoint_every"]?.intValue ?? 0 }
    public var policy: String? { finetune?["policy"]?.textValue }
    public var epochs: Int { finetune?["epochs"]?.intValue ?? 1 }
}

/// Reads `kind: pretrain | finetune` job YAML. Keys are the CLI options in snake_case (see `pretrainKeys`,
/// `finetuneKeys`) plus `commonKeys`; an unknown key, a wrong type or an out-of-range value is an error naming it.
public struct TrainingSpecParser: Sendable {
    public init() {}

    public static let commonKeys: [String: String] = [
        "kind": "pretrain | finetune",
        "name": "display name",
        "workers": "workers that must be present to start (default 1)",
        "output": "final model directory (default <exports>/<job-id>/model)",
        "base": "base model directory (default: the cached all-MiniLM-L6-v2)",
        "batch": "GLOBAL batch: samples per optimizer step over all workers",
        "lr": "peak learning rate",
        "max_length": "truncate inputs to N tokens",
        "seed": "random seed",
        "checkpoint_every": "steps between checkpoints (0: only the final one)",
        "dropout": "use dropout (default true)",
        "warmup_ratio": "share of steps warming up the learning rate",
        "weight_decay": "AdamW weight decay",
        "max_grad_norm": "gradient clipping norm",
        "max_non_finite_steps": "non-finite losses tolerated in a row",
        "rendezvous_timeout_ms": "how long a generation's ranks may take to meet (default 120000)",
        "collective_timeout_ms": "how long one all-reduce may wait for peers (default 300000)",
    ]
    public static let pretrainKeys: [String: String] = [
        "corpus": "GIP corpus JSONL (`uniguard corpus build`)",
        "steps": "total optimizer steps", "mlm_weight": "MLM weight", "vat_weight": "Alice++ weight",
        "cls_weight": "classification weight", "vat_epsilon": "Alice++ perturbation size", "vat_xi": "Alice++ probe size",
        "mask_rate": "MLM masking rate",
    ]
    public static let finetuneKeys: [String: String] = [
        "train": "training samples JSONL", "val": "validation samples JSONL", "policy": "policy id",
        "epochs": "passes over the training samples", "mode": "fft | cft", "input": "prompt | instruction",
        "head": "mean | cls",
    ]

    /// Parses YAML text; `source` names it in errors and `baseDirectory` anchors relative paths.
    public func parse(yaml: String, source: String, baseDirectory: String) throws -> TrainingJobSpec {
        let r = try TrainingSpecFields(yaml: yaml, source: source, baseDirectory: baseDirectory)
        guard let kindText = try r.string("kind") else { throw r.fail("kind", "missing: pretrain or finetune") }
        guard let kind = TrainingJobSpec.Kind(rawValue: kindText) else {
            throw r.fail("kind", "'\(kindText)' is not a training job; use pretrain or finetune")
        }
        let own = kind == .pretrain ? Self.pretrainKeys : Self.finetuneKeys
        let other = kind == .pretrain ? Self.finetuneKeys : Self.pretrainKeys
        let known = Self.commonKeys.merging(own) { a, _ in a }
        for key in r.keys where known[key] == nil {
            if other[key] != nil { throw r.fail(key, "not a \(kind.rawValue) setting (it belongs to the other training kind)") }
            throw r.fail(key, "unknown key (known for \(kind.rawValue): \(known.keys.sorted().joined(separator: ", ")))")
        }
        let batch = try r.int("batch", in: 1...100_000)
        let workers = try r.int("workers", in: 1...1024) ?? 1
        if workers > (batch ?? 16) {
            throw r.fail("workers", "\(workers) workers cannot share a global batch of \(batch ?? 16) (each rank needs a row)")
        }
        let positive = "must be positive"
        let lr = try r.number("lr", positive) { $0 > 0 }
        let maxLength = try r.int("max_length", in: (kind == .pretrain ? 8 : 2)...100_000)
        let seed = try r.int("seed", in: 0...Int.max)
        let checkpointEvery = try r.int("checkpoint_every", in: 0...100_000_000)
        let dropout = try r.bool("dropout")
        let warmup = try r.number("warmup_ratio", "must be in [0, 1]") { (0...1).contains($0) }
        let decay = try r.number("weight_decay", "must be at least 0") { $0 >= 0 }
        let clip = try r.number("max_grad_norm", positive) { $0 > 0 }
        let nonFinite = try r.int("max_non_finite_steps", in: 0...1_000_000)

        var spec = TrainingJobSpec(
            kind: kind, name: try r.string("name") ?? (source as NSString).lastPathComponent, workers: workers,
            output: try r.path("output"), base: try r.path("base"), data: "", validation: nil, pretrain: nil, finetune: nil,
            rendezvousTimeoutMs: try r.int("rendezvous_timeout_ms", in: 1000...86_400_000) ?? 120_000,
            collectiveTimeoutMs: try r.int("collective_timeout_ms", in: 1000...86_400_000) ?? 300_000)
        switch kind {
        case .pretrain:
            guard let corpus = try r.path("corpus") else { throw r.fail("corpus", "missing: the GIP corpus JSONL (`uniguard corpus build`)") }
            spec.data = corpus
            var o = PretrainOptions()
            if let v = try r.int("steps", in: 1...100_000_000) { o.steps = v }
            if let batch { o.batch = batch }
            if let lr { o.lr = Float(lr) }
            if let maxLength { o.maxLength = maxLength }
            if let seed { o.seed = UInt64(seed) }
            if let checkpointEvery { o.checkpointEvery = checkpointEvery }
            if let dropout { o.dropout = dropout }
            if let warmup { o.warmupRatio = warmup }
            if let decay { o.weightDecay = Float(decay) }
            if let clip { o.maxGradNorm = Float(clip) }
            if let nonFinite { o.maxNonFiniteSteps = nonFinite }
            let nonNegative = "must be at least 0"
            if let v = try r.number("mlm_weight", nonNegative, { $0 >= 0 }) { o.mlmWeight = Float(v) }
            if let v = try r.number("vat_weight", nonNegative, { $0 >= 0 }) { o.vatWeight = Float(v) }
            if let v = try r.number("cls_weight", nonNegative, { $0 >= 0 }) { o.clsWeight = Float(v) }
            guard o.mlmWeight + o.vatWeight + o.clsWeight > 0 else {
                throw r.fail("cls_weight", "mlm_weight, vat_weight and cls_weight are all 0: at least one loss weight must be positive")
            }
            if let v = try r.number("vat_epsilon", positive, { $0 > 0 }) { o.vatEpsilon = Float(v) }
            if let v = try r.number("vat_xi", positive, { $0 > 0 }) { o.vatXi = Float(v) }
            if let v = try r.number("mask_rate", "must be in (0, 1)", { $0 > 0 && $0 < 1 }) { o.maskRate = Float(v) }
            spec.pretrain = o
        case .finetune:
            guard let train = try r.path("train") else { throw r.fail("train", "missing: the training samples JSONL") }
            guard let policy = try r.string("policy"), !policy.isEmpty else { throw r.fail("policy", "missing: the policy id to train") }
            spec.data = train
            spec.validation = try r.path("val")
            // The defaults of `uniguard train` (TrainingOptions), spelled out so every rank reads the same settings.
            var s: [String: TrainingJobSpec.FinetuneValue] = [
                "policy": .text(policy), "epochs": .int(try r.int("epochs", in: 1...100_000) ?? 3),
                "mode": .text(try r.choice("mode", ["fft", "cft"]) ?? "fft"),
                "input": .text(try r.choice("input", ["prompt", "instruction"]) ?? "prompt"),
                "head": .text(try r.choice("head", ["mean", "cls"]) ?? "mean"),
                "batch": .int(batch ?? 16), "lr": .number(lr ?? 5e-5), "max_length": .int(maxLength ?? 128),
                "seed": .int(seed ?? 42), "dropout": .flag(dropout ?? true), "warmup_ratio": .number(warmup ?? 0.1),
                "weight_decay": .number(decay ?? 0.01), "max_grad_norm": .number(clip ?? 1),
                "max_non_finite_steps": .int(nonFinite ?? 3), "checkpoint_every": .int(checkpointEvery ?? 100),
            ]
            s["train"] = .text(train)
            if let val = spec.validation { s["val"] = .text(val) }
            spec.finetune = s
        }
        return spec
    }

    /// The `kind` of a job file, or nil when it has none or is not YAML (the merge-search parser then reports it).
    public static func kind(ofYAML yaml: String) -> String? {
        guard let fields = try? TrainingSpecFields(yaml: yaml, source: "job", baseDirectory: "") else { return nil }
        return try? fields.string("kind")
    }
}
