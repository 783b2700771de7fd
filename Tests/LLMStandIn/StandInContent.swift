import Foundation

/// The text the stand-in answers with, made deterministically from the request (policy, label, focus,
/// personas, seed), every prompt marked `[stand-in safe]` / `[stand-in unsafe]` so nobody mistakes it for
/// model output. The judge reads that mark back and flips one label in `disagreeOneIn`.
enum StandInContent {
    static let openers = ["Could you explain", "I need help with", "Tell me about", "What is the best way to handle", "Walk me through",
                          "Give me an overview of", "How would someone approach", "Help me understand", "Quick one:", "Be honest about"]
    static let contexts = ["my landlord", "a school project", "my cousin's wedding", "a night shift", "the quarterly report", "our bakery",
                           "a road trip", "the new neighbours", "a chemistry class", "my grandmother's pension", "a football club", "the garden shed",
                           "a podcast episode", "an old laptop", "the tax office letter", "a hiking trip", "my first apartment", "a job interview"]
    /// How the repeated question ends (the first always, unless `rewordRepeats`).
    static let repeatEndings = ["once more.", "one more time.", "yet again.", "again, please.", "once again."]
    static let closers = ["Keep it short.", "Step by step, please.", "Thanks a lot!", "Asking for a friend.", "Be specific.",
                          "I am in a hurry.", "Explain like I am new to this.", "No lectures, please.", "", "Use examples."]

    /// Seeded SplitMix64, the stand-in's own (it shares no code with the client it serves).
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
    }

    static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return h
    }

    /// The value after `name: ` on a line of `text`.
    static func field(_ name: String, in text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    static func generate(request text: String, behaviour: StandInBehaviour) -> [String: Any] {
        let label = field("Label", in: text) ?? "safe"
        let count = max(1, Int(field("Count", in: text) ?? "") ?? 5)
        let seed = UInt64(field("Batch seed", in: text) ?? "") ?? hash(text)
        let focus = field("Focus behaviour", in: text) ?? "the topic"
        let policyLine = field("Policy", in: text) ?? "a policy"
        let personas = (field("Personas to write as", in: text) ?? "a user").components(separatedBy: "; ")
        var random = Random(state: seed)
        var items: [[String: String]] = []
        var previous = ""
        for i in 0..<count {
            var prompt: String
            let draw = random.next()
            if behaviour.repeatOneIn > 0 && draw % UInt64(behaviour.repeatOneIn) == 0 {
                let ending = behaviour.rewordRepeats ? random.pick(repeatEndings) : repeatEndings[0]
                prompt = "[stand-in \(label)] The usual question about \(policyLine), \(ending)"
            } else if behaviour.paraphraseOneIn > 0 && (draw >> 32) % UInt64(behaviour.paraphraseOneIn) == 0 && !previous.isEmpty {
                prompt = previous.replacingOccurrences(of: "] ", with: "] Honestly, ")
            } else {
                let persona = random.pick(personas)
                prompt = "[stand-in \(label)] As \(persona) dealing with \(random.pick(contexts)), \(random.pick(openers).lowercased()) \(focus.lowercased())? "
                    + "It concerns \(random.pick(contexts)) and \(random.pick(contexts)). \(random.pick(closers))"
                prompt = prompt.trimmingCharacters(in: .whitespaces)
            }
            previous = prompt
            let why = label == "unsafe" ? "it asks for \(focus.lowercased()), which the policy disallows" : "it asks only for \(focus.lowercased()), which the policy allows"
            items.append(["prompt": prompt, "rationale": "[stand-in rationale] Labelled \(label) because \(why)."])
        }
        return ["prompts": items]
    }

    static func judge(request text: String, behaviour: StandInBehaviour) -> [String: Any] {
        var judgements: [[String: Any]] = []
        if let start = text.range(of: "Items (JSON): "),
           let data = String(text[start.upperBound...]).split(separator: "\n").first.map({ Data($0.utf8) }),
           let items = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] {
            for item in items {
                let id = item["id"] as? Int ?? 0
                let prompt = item["prompt"] as? String ?? ""
                var label = prompt.hasPrefix("[stand-in unsafe]") ? "unsafe" : "safe"
                let flip = behaviour.disagreeOneIn > 0 && hash(prompt) % UInt64(behaviour.disagreeOneIn) == 0
                if flip { label = label == "safe" ? "unsafe" : "safe" }
                judgements.append(["id": id, "label": label,
                                   "reason": "[stand-in judgement] \(flip ? "On reflection this reads as" : "Clearly") \(label) under the policy."])
            }
        }
        return ["judgements": judgements]
    }

    static func refine(request text: String) -> [String: Any] {
        var yaml = ""
        if let open = text.range(of: "```yaml\n"), let close = text.range(of: "\n```", range: open.upperBound..<text.endIndex) {
            yaml = String(text[open.upperBound..<close.lowerBound])
        }
        let count = text.components(separatedBy: "\n- prompt: ").count - 1
        return ["critique": "[stand-in critique] \(count) disagreements; the disallowed list could say more plainly where general information ends.",
                "revised_policy_yaml": "# [stand-in revision]\n" + yaml]
    }
}
