/// Which policies' unsafe examples may serve as *safe* samples for another policy.
///
/// Default: an unsafe example of policy A is safe under an unrelated policy B ("which stocks should I
/// buy?" does not break the medical-advice policy), which teaches a guardrail to read its policy
/// instead of flagging anything that looks risky. The exceptions below are pairs where A's unsafe
/// prompts are often unsafe under B as well, so they are never used as B's safe samples:
/// - `prompt_injection` → every policy: a jailbreak wraps an arbitrary payload (harm, hate, advice…).
/// - `safety` ↔ `toxicity`, `pii`, `medical_advice`, `legal_advice`: violent threats are abuse, stalking
///   is a privacy breach, overdose questions are medical, evading police is legal advice.
/// - `toxicity` ↔ `pii`: doxxing and harassment go together.
/// - `medical_advice` ↔ `pii`: medical questions carry the asker's health data.
/// - `financial_advice` ↔ `tax_advice` ↔ `legal_advice`: tax questions are financial and legal ones.
/// Policies not in the bundled pack have no exceptions unless listed here.
public enum CrossPolicyRules {
    /// Policies whose unsafe examples are never used as safe samples for any other policy.
    public static let neverNegative: Set<String> = ["prompt_injection"]

    /// Unordered pairs that overlap.
    public static let overlappingPairs: [(String, String)] = [
        ("safety", "toxicity"), ("safety", "pii"), ("safety", "medical_advice"), ("safety", "legal_advice"),
        ("toxicity", "pii"), ("medical_advice", "pii"),
        ("financial_advice", "tax_advice"), ("financial_advice", "legal_advice"), ("tax_advice", "legal_advice"),
    ]

    /// Whether an unsafe example of `source` may be labelled safe for `target`.
    public static func unsafeExample(of source: String, isSafeFor target: String) -> Bool {
        guard source != target, !neverNegative.contains(source) else { return false }
        return !overlappingPairs.contains { ($0.0 == source && $0.1 == target) || ($0.0 == target && $0.1 == source) }
    }
}
