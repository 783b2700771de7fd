/// Guardrail-instruction pretraining (GIP) settings: loss weights, Alice++'s perturbation, and the loop's knobs.
/// Total loss = mlmWeight·MLM + vatWeight·Alice++ + clsWeight·classification, where
/// Alice++ = cross-entropy on the adversarially perturbed input + KL(clean ‖ perturbed).
public struct PretrainOptions: Codable, Sendable, Equatable {
    public var steps = 1000
    public var batch = 16
    public var lr: Float = 5e-5
    public var warmupRatio = 0.06
    public var weightDecay: Float = 0.01
    public var maxGradNorm: Float = 1.0
    public var maxLength = 256
    public var seed: UInt64 = 42
    public var mlmWeight: Float = 1
    public var vatWeight: Float = 1
    public var clsWeight: Float = 1
    /// Average L2 norm of one token's adversarial perturbation (see `VirtualAdversarial`).
    public var vatEpsilon: Float = 0.1
    /// Size of the random probe the power-iteration step starts from.
    public var vatXi: Float = 0.01
    /// Fraction of real, non-special tokens selected for MLM each step.
    public var maskRate: Float = 0.15
    public var dropout = true
    /// Classification and Alice++ read the unmasked sequence (a second encoder pass; MLM keeps the masked one),
    /// as inference does. Off: all three terms share the masked pass (cheaper, but the classifier then learns
    /// on inputs it never sees at inference). Checkpoints written before this setting existed read as off.
    public var clsOnUnmasked = true
    /// Weigh the gold-label terms (classification and Alice++'s adversarial CE) so both classes count equally in
    /// every global batch (`BatchClassWeights`). Checkpoints written before this setting existed read as off.
    public var classBalance = true
    /// Steps between checkpoints (0: only the final model).
    public var checkpointEvery = 100
    /// Consecutive non-finite losses tolerated (their steps are skipped) before pretraining stops.
    public var maxNonFiniteSteps = 3

    public init() {}

    enum CodingKeys: String, CodingKey {
        case steps, batch, lr, seed, dropout
        case warmupRatio = "warmup_ratio", weightDecay = "weight_decay", maxGradNorm = "max_grad_norm", maxLength = "max_length"
        case mlmWeight = "mlm_weight", vatWeight = "vat_weight", clsWeight = "cls_weight", vatEpsilon = "vat_epsilon", vatXi = "vat_xi"
        case maskRate = "mask_rate", checkpointEvery = "checkpoint_every", maxNonFiniteSteps = "max_non_finite_steps"
        case clsOnUnmasked = "cls_on_unmasked", classBalance = "class_balance"
    }

    /// Every key is required except those added later, which take the value that reproduces older runs.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        steps = try c.decode(Int.self, forKey: .steps); batch = try c.decode(Int.self, forKey: .batch)
        lr = try c.decode(Float.self, forKey: .lr); warmupRatio = try c.decode(Double.self, forKey: .warmupRatio)
        weightDecay = try c.decode(Float.self, forKey: .weightDecay); maxGradNorm = try c.decode(Float.self, forKey: .maxGradNorm)
        maxLength = try c.decode(Int.self, forKey: .maxLength); seed = try c.decode(UInt64.self, forKey: .seed)
        mlmWeight = try c.decode(Float.self, forKey: .mlmWeight); vatWeight = try c.decode(Float.self, forKey: .vatWeight)
        clsWeight = try c.decode(Float.self, forKey: .clsWeight); vatEpsilon = try c.decode(Float.self, forKey: .vatEpsilon)
        vatXi = try c.decode(Float.self, forKey: .vatXi); maskRate = try c.decode(Float.self, forKey: .maskRate)
        dropout = try c.decode(Bool.self, forKey: .dropout); checkpointEvery = try c.decode(Int.self, forKey: .checkpointEvery)
        maxNonFiniteSteps = try c.decode(Int.self, forKey: .maxNonFiniteSteps)
        clsOnUnmasked = try c.decodeIfPresent(Bool.self, forKey: .clsOnUnmasked) ?? false
        classBalance = try c.decodeIfPresent(Bool.self, forKey: .classBalance) ?? false
    }

    /// Settings that change the numbers a step produces; a resume must not change them.
    public func differences(from other: PretrainOptions) -> [String] {
        var out: [String] = []
        func cmp<T: Equatable>(_ name: String, _ a: T, _ b: T) { if a != b { out.append("\(name): checkpoint \(b), now \(a)") } }
        cmp("steps", steps, other.steps); cmp("batch", batch, other.batch); cmp("lr", lr, other.lr)
        cmp("warmup-ratio", warmupRatio, other.warmupRatio); cmp("weight-decay", weightDecay, other.weightDecay)
        cmp("max-grad-norm", maxGradNorm, other.maxGradNorm); cmp("max-length", maxLength, other.maxLength)
        cmp("seed", seed, other.seed); cmp("mlm-weight", mlmWeight, other.mlmWeight); cmp("vat-weight", vatWeight, other.vatWeight)
        cmp("cls-weight", clsWeight, other.clsWeight); cmp("vat-epsilon", vatEpsilon, other.vatEpsilon); cmp("vat-xi", vatXi, other.vatXi)
        cmp("mask-rate", maskRate, other.maskRate); cmp("dropout", dropout, other.dropout)
        cmp("cls-on-unmasked", clsOnUnmasked, other.clsOnUnmasked); cmp("class-balance", classBalance, other.classBalance)
        return out
    }
}

/// The loss terms of one GIP step (means over the batch; MLM over its masked tokens).
public struct PretrainLosses: Sendable, Equatable {
    public var mlm: Float = 0
    public var classification: Float = 0
    /// Cross-entropy on the adversarially perturbed input (Alice++'s gold-label term).
    public var adversarial: Float = 0
    /// KL(clean ‖ perturbed) (Alice++'s virtual adversarial term).
    public var consistency: Float = 0
    public var total: Float = 0
    /// Tokens the MLM loss was computed on.
    public var maskedTokens = 0
}
