/// Which policies' unsafe examples may serve as *safe* samples for another policy.
///
/// Default: an unsafe example of policy A is safe under an unrelated policy B ("which stocks should I
/// buy?" does not break the medical-advice policy), which teaches a guardrail to read its policy
/// instead of flagging anything that looks risky. The exceptions are directed: "A → B" means A's unsafe
/// prompts are often unsafe under B too, so they are never used as B's safe samples.
/// - `prompt_injection` → every policy: a jailbreak wraps an arbitrary payload (harm, hate, advice…).
/// - `safety` ↔ `toxicity`, `pii`, `medical_advice`, `legal_advice`, `tax_advice`: threats are abuse,
///   stalking is a privacy breach, overdose questions are medical, evading police is legal advice, and
///   tax evasion is a crime that AdvBench (imported as `safety`) labels harmful.
/// - `safety` → `financial_advice` only: safety prompts include financial crime (insider trading, market
///   manipulation), but personal investing questions are not harmful, so they stay safety negatives.
/// - `toxicity` ↔ `pii`: doxxing and harassment go together.
/// - `medical_advice` ↔ `pii`: medical questions carry the asker's health data.
/// - `financial_advice` ↔ `tax_advice` ↔ `legal_advice`: tax questions are financial and legal ones.
/// Policies not in the bundled pack have no exceptions unless listed here.
public enum CrossPolicyRules {
    /// Policies whose unsafe examples are never used as safe samples for any other policy.
    public static let neverNegative: Set<String> = ["prompt_injection"]

    /// Directed exclusions: unsafe examples of `from` are not safe samples for `to`.
    public static let excluded: Set<String> = {
        var pairs: Set<String> = []
        func both(_ a: String, _ b: String) { pairs.insert(a + "→" + b); pairs.insert(b + "→" + a) }
        for other in ["toxicity", "pii", "medical_advice", "legal_advice", "tax_advice"] { both("safety", other) }
        pairs.insert("safety→financial_advice")
        both("toxicity", "pii")
        both("medical_advice", "pii")
        both("financial_advice", "tax_advice")
        both("financial_advice", "legal_advice")
        both("tax_advice", "legal_advice")
        return pairs
    }()

    /// Whether an unsafe example of `source` may be labelled safe for `target`.
    public static func unsafeExample(of source: String, isSafeFor target: String) -> Bool {
        guard source != target, !neverNegative.contains(source) else { return false }
        return !excluded.contains(source + "→" + target)
    }
}
