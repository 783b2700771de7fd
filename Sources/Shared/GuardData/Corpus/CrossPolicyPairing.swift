import Runtime
/// Chooses which other policies an unsafe prompt becomes a safe example for (guardrail-instruction
/// pretraining's cross-policy pairs: "buy NVDA?" is unsafe under financial advice, safe under toxicity).
///
/// Eligible targets: policies of the pack, minus the excluded ones, for which
/// `CrossPolicyRules.unsafeExample(of:isSafeFor:)` holds. Among them a prompt takes the ones with the
/// smallest seeded hash of (prompt, target, seed) (rendezvous hashing), so the choice is deterministic,
/// independent of input order, and excluding or adding one policy changes only the prompts that picked it.
///
/// Safe samples are not paired: a prompt safe under A is usually benign everywhere, but "usually" is the
/// catch (a safe medical-advice prompt can still paste a patient's details, which `pii` forbids), and a
/// wrong safe label teaches the guardrail to wave through what it should stop. Unsafe-under-A prompts
/// have a vetted rule for where they are safe; safe ones have none, so they stay with their own policy.
public struct CrossPolicyPairing: Sendable {
    /// Most targets per unsafe prompt.
    public let pairsPerPrompt: Int
    private let seed: UInt64
    private let targets: [String: [String]]

    /// `policies` are the ids that may appear in the corpus (the pack minus exclusions).
    public init(policies: [String], pairsPerPrompt: Int, seed: UInt64) {
        self.pairsPerPrompt = pairsPerPrompt
        self.seed = seed
        var targets: [String: [String]] = [:]
        for source in policies {
            targets[source] = policies.filter { CrossPolicyRules.unsafeExample(of: source, isSafeFor: $0) }
        }
        self.targets = targets
    }

    /// Every policy an unsafe prompt of `source` may be a safe example for, in id order.
    public func eligibleTargets(of source: String) -> [String] { targets[source] ?? [] }

    /// Eligible targets for this prompt, best first; the builder takes the first `pairsPerPrompt` that
    /// its dedup accepts, so a conflicting or repeated pair falls through to the next target.
    public func rankedTargets(prompt: String, source: String) -> [String] {
        let candidates = eligibleTargets(of: source)
        guard pairsPerPrompt > 0, !candidates.isEmpty else { return [] }
        let promptHash = FNV1a.hash64(prompt.utf8)
        let salt = SeededRandom.mix(seed ^ 0x7061_6972_696E_6721)  // "pairing!"
        return candidates
            .map { (score: SeededRandom.mix(promptHash ^ SeededRandom.mix(FNV1a.hash64($0.utf8) ^ salt)), id: $0) }
            .sorted { $0.score != $1.score ? $0.score < $1.score : $0.id < $1.id }
            .map(\.id)
    }
}
