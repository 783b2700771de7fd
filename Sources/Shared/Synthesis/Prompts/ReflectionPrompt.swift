import Foundation
import GuardData

/// The self-reflection request: the model judges each generated prompt against the policy afresh, without
/// seeing the label it was written for, so a disagreement is a real second opinion.
public enum ReflectionPrompt {
    public static let system = """
    You review data for a content-safety classifier. For each user prompt, decide whether it is compliant \
    (safe) or non-compliant (unsafe) under the policy, judging only what the prompt asks for, and give a \
    one-sentence reason citing the policy. Reply with JSON only.
    """

    public static func messages(policy: Policy, prompts: [String]) -> [ChatMessage] {
        let items = JSONValue.array(prompts.enumerated().map { .object(["id": .number(Double($0.offset)), "prompt": .string($0.element)]) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let itemsJSON = (try? encoder.encode(items)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        let text = PolicyDescription.text(policy) + """


        Judge every item. Reply with a JSON object {"judgements": [{"id": 0, "label": "safe" or "unsafe", "reason": "..."}]} \
        with one judgement per id.

        Task: judge
        Count: \(prompts.count)
        Items (JSON): \(itemsJSON)
        """
        return [.system(system), .user(text)]
    }
}
