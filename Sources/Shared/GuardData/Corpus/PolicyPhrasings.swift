import Runtime
/// Several wordings of one policy's instruction, so a MultiTaskGuard learns to read what a policy says
/// rather than memorise one fixed string per policy (the paper's instruction augmentation).
///
/// Phrasing 0 is exactly `Policy.instructionText`, the text inference puts after `Instruct:`; the others
/// recombine the name, description, disallowed and allowed lists under different wording. None is longer
/// than phrasing 0 (in characters): the instruction is repeated in every input and the prompt must still
/// fit in the model's 256 tokens, so list items are added only while they fit that budget.
public struct PolicyPhrasings: Sendable, Hashable {
    /// How many phrasings every policy has.
    public static let count = 5

    /// The policy the phrasings describe.
    public let policyID: String
    /// The phrasings; index 0 is `Policy.instructionText`.
    public let texts: [String]

    public init(_ policy: Policy) {
        policyID = policy.id
        let canonical = policy.instructionText
        let budget = canonical.count
        let name = Policy.squash(policy.name)
        let description = Self.sentence(policy.description)
        let disallowed = policy.disallowed.map(Self.item)
        let allowed = policy.allowed.map(Self.item)
        texts = [
            canonical,
            // What makes a prompt unsafe first, then what stays allowed.
            Self.fill("Policy \"\(name)\". A prompt is unsafe if it asks for: ", disallowed, budget: budget) { head in
                Self.fill(head + ". It may still ask for: ", allowed, budget: budget) { $0 + "." }
            },
            // The description and the allowed side only: the model must infer the unsafe side.
            Self.fill("\(name). \(description) Allowed: ", allowed, budget: budget) { $0 + "." },
            // The list before the description, as an imperative.
            Self.fill("Flag as unsafe under \(name) any request for ", disallowed, budget: budget) { $0 + ". " + description },
            // Terse label-style wording.
            Self.fill("\(name) policy. Not allowed: ", disallowed, budget: budget) { head in
                Self.fill(head + ". Allowed: ", allowed, budget: budget) { $0 + "." }
            },
        ]
    }

    /// The phrasing with this index (0..<count).
    public subscript(index: Int) -> String { texts[index] }

    /// Deterministic choice among the first `available` phrasings for one record: a hash of the prompt,
    /// the policy and the seed, so reruns and reorderings of the input give every record the same wording.
    public static func index(prompt: String, policy: String, seed: UInt64, available: Int) -> Int {
        precondition(available > 0, "no phrasings available")
        var h = FNV1a.hash64(policy.utf8)
        h = FNV1a.continue(h, 0x1F)
        h = FNV1a.continue(h, prompt.utf8)
        let mixed = SeededRandom.mix(h ^ SeededRandom.mix(seed ^ 0x7068_7261_7369_6E67))  // "phrasing"
        return Int(mixed % UInt64(available))
    }

    /// `head` + as many `items` as fit `budget` characters after `tail` is applied (at least one item,
    /// so every phrasing names some behaviour), then `tail`.
    static func fill(_ head: String, _ items: [String], separator: String = "; ", budget: Int, tail: (String) -> String) -> String {
        var text = head + (items.first ?? "")
        for item in items.dropFirst() {
            let longer = text + separator + item
            if tail(longer).count > budget { break }
            text = longer
        }
        return tail(text)
    }

    /// A list entry without trailing punctuation or runs of whitespace.
    static func item(_ text: String) -> String {
        Policy.squash(text).trimmingCharacters(in: .init(charactersIn: ".;"))
    }

    /// Text ending with one full stop.
    static func sentence(_ text: String) -> String {
        let squashed = Policy.squash(text)
        return squashed.hasSuffix(".") ? squashed : squashed + "."
    }
}

extension FNV1a {
    /// Continues a hash with more bytes (so several fields hash without building one string).
    static func `continue`<Bytes: Sequence>(_ hash: UInt64, _ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var h = hash
        for byte in bytes { h ^= UInt64(byte); h &*= 0x0000_0100_0000_01b3 }
        return h
    }

    /// Continues a hash with one byte.
    static func `continue`(_ hash: UInt64, _ byte: UInt8) -> UInt64 {
        (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }
}
