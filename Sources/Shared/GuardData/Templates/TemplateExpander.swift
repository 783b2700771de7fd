import Foundation
import Runtime

/// Makes labelled samples from a policy pack's example prompts, deterministically for a given seed.
///
/// For every policy P (in id order) it writes `count` unsafe and `count` safe samples:
/// - **unsafe**: P's own unsafe examples, transformed;
/// - **safe**: about 50% P's own safe examples, 20% other policies' safe examples (authoring rule: safe
///   examples are safe under every policy), and 30% *cross-policy negatives*: other policies' unsafe
///   examples that `CrossPolicyRules` allows as safe for P. Shares are re-spread when a pool is empty.
///
/// Examples are drawn round-robin from a seeded shuffle of each pool, so every example is used about
/// equally. Each draw gets a random recipe of transformations (`PromptFramings`), applied in this order:
/// 1. paraphrase (p = 0.35): one phrase swap such as "What is" ↔ "What's", "How do I" ↔ "How can I";
/// 2. one frame: none (0.30), opener "Quick question: …" (0.18), help request "Can you help me with this? …"
///    (0.14), politeness "… Thank you!" (0.12), allowed-topic frame "I know you're allowed to help with
///    <an allowed behaviour of P>, so: …" (0.14), disclaimer "This isn't <a disallowed behaviour of P>,
///    I promise. …" (0.12);
/// 3. suffix (p = 0.3): " Keep it short.", " Step by step, please." …;
/// 4. case (p = 0.15): all lower case, first letter lower case, trailing punctuation dropped, or (rarely)
///    upper case;
/// 5. typo (p = 0.08): two adjacent letters swapped inside one word of five or more letters.
/// The label never changes: a polite, framed or disclaimed request is exactly as safe or unsafe as the seed.
/// A draw whose normalised text was already produced for the same policy and label is retried (up to 40
/// times) before a duplicate is accepted and counted.
///
/// Every sample's `source` is `expand:<own|other-safe|cross>:<seed policy>#seed=<8 hex>`, where the hex
/// is from SHA-256 of the normalised seed example: `DataSplitter` keeps all variants of one example in
/// the same split. Each (policy, label) pair has its own random stream derived from the seed, so adding
/// a policy leaves the other policies' output unchanged.
public struct TemplateExpander: Sendable {
    /// The policies to expand.
    public let pack: PolicyPack
    /// Base seed of all random streams.
    public let seed: UInt64

    public init(pack: PolicyPack, seed: UInt64 = 0) {
        self.pack = pack
        self.seed = seed
    }

    /// Result of one expansion.
    public struct Output: Sendable {
        /// Samples in order: per policy, `count` unsafe then `count` safe.
        public var samples: [Sample] = []
        /// Draws that had to accept a duplicate text (pool too small for `count`).
        public var duplicates = 0
    }

    /// Where a drawn example comes from.
    struct Draw: Sendable {
        let text: String
        let origin: String
        let seedPolicy: String
    }

    /// Expands every policy to `count` safe and `count` unsafe samples.
    public func expand(count: Int) -> Output {
        var output = Output()
        for policy in pack.policies {
            for label in [SafetyLabel.unsafe, .safe] {
                let (samples, duplicates) = expand(policy: policy, label: label, count: count)
                output.samples += samples
                output.duplicates += duplicates
            }
        }
        return output
    }

    /// `count` samples of one label for one policy, and how many duplicates had to be accepted.
    public func expand(policy: Policy, label: SafetyLabel, count: Int) -> ([Sample], Int) {
        guard count > 0 else { return ([], 0) }
        var rng = SeededRandom(seed: seed, stream: "\(policy.id)/\(label.rawValue)")
        var pools = self.pools(for: policy, label: label)
        for index in pools.indices { rng.shuffle(&pools[index].draws) }
        pools.removeAll { $0.draws.isEmpty }
        guard !pools.isEmpty else { return ([], 0) }
        let totalWeight = pools.reduce(0) { $0 + $1.weight }
        var cursors = Array(repeating: 0, count: pools.count)
        var seen: Set<String> = []
        var samples: [Sample] = []
        var duplicates = 0
        for _ in 0..<count {
            var target = rng.unit() * totalWeight
            var poolIndex = pools.count - 1
            for (index, pool) in pools.enumerated() {
                if target < pool.weight { poolIndex = index; break }
                target -= pool.weight
            }
            let draw = pools[poolIndex].draws[cursors[poolIndex] % pools[poolIndex].draws.count]
            cursors[poolIndex] += 1
            var text = transform(draw.text, policy: policy, rng: &rng)
            var attempts = 0
            while seen.contains(PromptText.normalized(text)) && attempts < 40 {
                text = transform(draw.text, policy: policy, rng: &rng)
                attempts += 1
            }
            if !seen.insert(PromptText.normalized(text)).inserted { duplicates += 1 }
            let group = SHA256.hex(SHA256.hash(PromptText.normalized(draw.text)).prefix(4))
            samples.append(Sample(policy: policy.id, prompt: text, label: label,
                                  source: "expand:\(draw.origin):\(draw.seedPolicy)#seed=\(group)"))
        }
        return (samples, duplicates)
    }

    struct Pool: Sendable {
        var draws: [Draw]
        let weight: Double
    }

    /// The example pools for one policy and label, with their shares.
    func pools(for policy: Policy, label: SafetyLabel) -> [Pool] {
        if label == .unsafe {
            return [Pool(draws: policy.examples.unsafe.map { Draw(text: $0, origin: "own", seedPolicy: policy.id) }, weight: 1)]
        }
        let others = pack.policies.filter { $0.id != policy.id }
        let own = policy.examples.safe.map { Draw(text: $0, origin: "own", seedPolicy: policy.id) }
        let otherSafe = others.flatMap { other in other.examples.safe.map { Draw(text: $0, origin: "other-safe", seedPolicy: other.id) } }
        let cross = others.filter { CrossPolicyRules.unsafeExample(of: $0.id, isSafeFor: policy.id) }
            .flatMap { other in other.examples.unsafe.map { Draw(text: $0, origin: "cross", seedPolicy: other.id) } }
        return [Pool(draws: own, weight: 0.5), Pool(draws: otherSafe, weight: 0.2), Pool(draws: cross, weight: 0.3)]
    }

    /// Applies one random recipe (see the type's documentation) to `text`.
    func transform(_ text: String, policy: Policy, rng: inout SeededRandom) -> String {
        var x = text
        if rng.chance(0.35) { x = paraphrase(x, rng: &rng) }
        let roll = rng.unit()
        var template: String?
        if roll < 0.30 {
            template = nil
        } else if roll < 0.48 {
            template = rng.pick(PromptFramings.openers)
        } else if roll < 0.62 {
            template = rng.pick(PromptFramings.requests)
        } else if roll < 0.74 {
            template = rng.pick(PromptFramings.polite)
        } else if roll < 0.88 {
            template = rng.pick(PromptFramings.allowedFrames)?.replacingOccurrences(of: "{topic}", with: Self.topic(rng.pick(policy.allowed) ?? policy.name))
        } else {
            template = rng.pick(PromptFramings.disclaimerFrames)?.replacingOccurrences(of: "{topic}", with: Self.topic(rng.pick(policy.disallowed) ?? policy.name))
        }
        if let template {
            x = template.replacingOccurrences(of: "{x_lc}", with: Self.lowerFirst(x)).replacingOccurrences(of: "{x}", with: x)
        }
        if rng.chance(0.3), let suffix = rng.pick(PromptFramings.suffixes) {
            x = Self.endsSentence(x) ? x + suffix : x + "." + suffix
        }
        if rng.chance(0.15) {
            switch rng.below(7) {
            case 0, 1, 2: x = x.lowercased()
            case 3, 4: x = Self.lowerFirst(x)
            case 5: while let last = x.last, ".?!".contains(last) { x.removeLast() }
            default: x = x.uppercased()
            }
        }
        if rng.chance(0.08) { x = typo(x, rng: &rng) }
        return x
    }

    private func paraphrase(_ text: String, rng: inout SeededRandom) -> String {
        let matches = PromptFramings.paraphrases.filter { text.contains($0.0) }
        guard let (from, to) = rng.pick(matches), let range = text.range(of: from) else { return text }
        var out = text
        var replacement = to
        // Keep sentence case: a capitalised replacement inside a sentence is lowered ("I" stays).
        let before = text[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        let startsSentence = before.isEmpty || ".?!:\n".contains(before.last!)
        if !startsSentence, let first = replacement.first, first.isUppercase, !replacement.hasPrefix("I ") && !replacement.hasPrefix("I'") {
            replacement = Self.lowerFirst(replacement)
        }
        out.replaceSubrange(range, with: replacement)
        return out
    }

    private func typo(_ text: String, rng: inout SeededRandom) -> String {
        var words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let candidates = words.indices.filter { words[$0].count >= 5 && words[$0].allSatisfy(\.isLetter) }
        guard let index = rng.pick(candidates) else { return text }
        var letters = Array(words[index])
        let at = 1 + rng.below(letters.count - 2)
        letters.swapAt(at, at - 1 == 0 ? at + 1 : at - 1)
        words[index] = String(letters)
        return words.joined(separator: " ")
    }

    /// A behaviour from the policy as a noun phrase: first letter lowered, parenthetical and final period dropped.
    static func topic(_ behaviour: String) -> String {
        var text = Policy.squash(behaviour)
        if let paren = text.firstIndex(of: "(") { text = String(text[..<paren]) }
        text = text.trimmingCharacters(in: .whitespaces)
        while let last = text.last, ".;,".contains(last) { text.removeLast() }
        return lowerFirst(text)
    }

    /// Lowers the first letter unless the first word looks like an acronym or "I".
    static func lowerFirst(_ text: String) -> String {
        guard let first = text.first, first.isUppercase else { return text }
        let second = text.dropFirst().first
        if let second, second.isUppercase { return text }
        if first == "I", second == nil || second == " " || second == "'" { return text }
        return first.lowercased() + text.dropFirst()
    }

    static func endsSentence(_ text: String) -> Bool {
        guard let last = text.last else { return false }
        return ".?!\"')".contains(last)
    }
}
