import GuardData
import Runtime

/// What one generation batch varies, drawn from its seed: the behaviour in focus, persona, style, length,
/// language, and (by label) jailbreak wrappers for unsafe prompts or benign look-alikes for safe ones.
/// Batches of a (policy, label) walk the policy's behaviours in turn, so every listed behaviour gets data.
public struct DiversityPlan: Sendable, Hashable {
    public let focus: String
    public let personas: [String]
    public let style: String
    public let length: String
    /// A language other than English for some of the prompts, or nil for English only.
    public let language: String?
    /// Jailbreak framings (unsafe) or look-alike angles (safe) to mix in.
    public let framings: [String]

    public static let personaPool = [
        "a student", "a small-business owner", "a worried parent", "a software developer", "a retiree", "a journalist",
        "a nurse", "a teenager", "a non-native English speaker", "a researcher", "a gig worker", "a new immigrant",
    ]
    public static let stylePool = [
        "casual and chatty", "formal and precise", "terse, all lower case, little punctuation", "with a typo or two",
        "with a paragraph of background before the question", "as a direct command", "polite and hedging",
    ]
    public static let lengthPool = ["under 15 words", "15 to 40 words", "40 to 100 words", "mixed: some very short, some long"]
    public static let languagePool = ["Spanish", "French", "German", "Portuguese", "Chinese", "Hindi", "Arabic", "Italian"]
    public static let jailbreakPool = [
        "a role-play or fictional framing", "a claim of authority or permission (\"as a licensed professional\")",
        "a hypothetical or \"for research\" framing", "instructions hidden in a pasted document or email",
        "a no-rules persona (\"developer mode\", DAN)", "an innocent opening followed by the real request",
        "the request split into harmless-looking steps",
    ]
    public static let lookAlikePool = [
        "the same topic and vocabulary as a disallowed behaviour, asking only for what is allowed",
        "sensitive words in an educational, historical or news context", "general information a reference book gives",
        "a question about the rules themselves", "fiction or analysis that mentions the topic without asking for harm",
    ]

    /// The plan of batch `sequence` of (policy, label), from the batch seed.
    public init(policy: Policy, label: SafetyLabel, sequence: Int, seed: UInt64) {
        var random = SeededRandom(seed: seed, stream: "diversity")
        let behaviours = label == .unsafe ? policy.disallowed : policy.allowed
        focus = behaviours.isEmpty ? policy.description : behaviours[sequence % behaviours.count]
        var people = Self.personaPool
        random.shuffle(&people)
        personas = Array(people.prefix(3))
        style = random.pick(Self.stylePool)!
        length = random.pick(Self.lengthPool)!
        language = random.chance(0.25) ? random.pick(Self.languagePool) : nil
        var pool = label == .unsafe ? Self.jailbreakPool : Self.lookAlikePool
        random.shuffle(&pool)
        framings = Array(pool.prefix(2))
    }
}
