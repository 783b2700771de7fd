import Foundation
import Guards
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
    /// Finetune: the settings of `uniguard train` (Training.FinetuneSettings; global batch; paths on the coordinator).
    public var finetune: FinetuneSettings?
    public var rendezvousTimeoutMs: Int
    public var collectiveTimeoutMs: Int

    /// The global batch.
    public var batch: Int { pretrain?.batch ?? finetune?.batch ?? 16 }
    public var maxLength: Int { pretrain?.maxLength ?? finetune?.maxLength ?? 128 }
    public var checkpointEvery: Int { pretrain?.checkpointEvery ?? finetune?.checkpointEvery ?? 0 }
    public var policy: String? { finetune?.policy }
    public var epochs: Int { finetune?.epochs ?? 1 }
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
        "checkpoint_every": "steps between checkpoints (default 100 for both kinds, so a lost worker costs at most 100 steps; 0: only the final one)",
        "dropout": "use dropout (default true)",
        "rendezvous_timeout_ms": "how long a generation's ranks may take to meet (default 120000)",
        "collective_timeout_ms": "how long one all-reduce may wait for peers (default 300000)",
    ]
    public static let pretrainKeys: [String: String] = [
        "corpus": "GIP corpus JSONL (`uniguard corpus build`)",
        "steps": "total optimizer steps", "mlm_weight": "MLM weight", "vat_weight": "Alice++ weight",
        "cls_weight": "classification weight", "vat_epsilon": "Alice++ perturbation size", "vat_xi": "Alice++ probe size",
        "mask_rate": "MLM masking rate",
        "cls_on_unmasked": "classification and Alice++ read the unmasked sequence (default true)",
        "class_balance": "weigh both classes equally in every global batch (default true)",
        "warmup_ratio": "share of steps warming up the learning rate", "weight_decay": "AdamW weight decay",
        "max_grad_norm": "gradient clipping norm", "max_non_finite_steps": "non-finite losses tolerated in a row",
    ]
    public static let finetuneKeys: [String: String] = [
        "train": "training samples JSONL", "val": "validation samples JSONL", "policy": "policy id",
        "epochs": "passes over the training samples", "mode": "fft | cft", "input": "prompt | instruction",
        "head": "mean | cls", "policies": "policy pack directory (default: the bundled policies/)",
        "skip_invalid": "skip malformed sample lines instead of refusing the job",
        "balance": "oversample (repeat the minority label until both are equally frequent; default) | none",
        "target_fpr": "decision threshold: max validation F1 with false-positive rate at most this (default 0.05; needs val)",
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
            if let v = try r.number("warmup_ratio", "must be in [0, 1]", { (0...1).contains($0) }) { o.warmupRatio = v }
            if let v = try r.number("weight_decay", "must be at least 0", { $0 >= 0 }) { o.weightDecay = Float(v) }
            if let v = try r.number("max_grad_norm", positive, { $0 > 0 }) { o.maxGradNorm = Float(v) }
            if let v = try r.int("max_non_finite_steps", in: 0...1_000_000) { o.maxNonFiniteSteps = v }
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
            if let v = try r.bool("cls_on_unmasked") { o.clsOnUnmasked = v }
            if let v = try r.bool("class_balance") { o.classBalance = v }
            spec.pretrain = o
        case .finetune:
            guard let train = try r.path("train") else { throw r.fail("train", "missing: the training samples JSONL") }
            guard let policy = try r.string("policy"), !policy.isEmpty else { throw r.fail("policy", "missing: the policy id to train") }
            spec.data = train
            spec.validation = try r.path("val")
            // Unset keys keep the defaults of `uniguard train` (FinetuneSettings).
            var f = FinetuneSettings(train: train, policy: policy)
            f.base = spec.base
            f.val = spec.validation
            f.policies = try r.path("policies")
            if let v = try r.int("epochs", in: 1...100_000) { f.epochs = v }
            if let v = try r.choice("mode", TrainingOptions.Mode.allCases.map(\.rawValue)) { f.mode = TrainingOptions.Mode(rawValue: v)! }
            if let v = try r.choice("input", ["prompt", "instruction"]) { f.input = GuardMetadata.InputFormat(rawValue: v)! }
            if let v = try r.choice("head", ["mean", "cls"]) { f.head = GuardMetadata.HeadKind(rawValue: v)! }
            if let batch { f.batch = batch }
            if let lr { f.lr = lr }
            if let maxLength { f.maxLength = maxLength }
            if let seed { f.seed = UInt64(seed) }
            if let dropout { f.dropout = dropout }
            // A cluster job checkpoints by default (unlike `uniguard train`, whose default is 0): a lost worker or
            // coordinator then costs at most 100 steps instead of the whole run.
            f.checkpointEvery = checkpointEvery ?? 100
            if let v = try r.bool("skip_invalid") { f.skipInvalid = v }
            if let v = try r.choice("balance", FinetuneSettings.Balance.allCases.map(\.rawValue)) { f.balance = FinetuneSettings.Balance(rawValue: v)! }
            if let v = try r.number("target_fpr", "must be in [0, 1]", { (0...1).contains($0) }) { f.targetFPR = v }
            if let problem = f.problems().first { throw r.fail("(settings)", problem) }
            spec.finetune = f
        }
        return spec
    }

    /// The `kind` of a job file, or nil when it has none or is not YAML (the merge-search parser then reports it).
    public static func kind(ofYAML yaml: String) -> String? {
        guard let fields = try? TrainingSpecFields(yaml: yaml, source: "job", baseDirectory: "") else { return nil }
        return try? fields.string("kind")
    }
}
