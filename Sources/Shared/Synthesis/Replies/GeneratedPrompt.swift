import Foundation

/// One prompt the model wrote, with its rationale.
public struct GeneratedPrompt: Sendable, Hashable {
    public var prompt: String
    public var rationale: String

    /// The longest prompt kept; longer ones are a model rambling, not a user prompt.
    public static let maxCharacters = 6000

    /// Reads a generation reply. A reply without a `prompts` array of `{prompt, rationale}` objects (the schema
    /// ignored), with an empty or oversized item, or with none at all is unusable; extra items are cut at `requested`.
    public static func parse(_ content: String, requested: Int) throws -> [GeneratedPrompt] {
        let object = try ReplyJSON.object(in: content)
        guard let items = object["prompts"] as? [Any] else {
            throw ReplyProblem("no \"prompts\" array (the reply ignored the schema; keys: \(object.keys.sorted().joined(separator: ", ")))")
        }
        guard !items.isEmpty else { throw ReplyProblem("\"prompts\" is empty") }
        var out: [GeneratedPrompt] = []
        for (index, any) in items.prefix(requested).enumerated() {
            guard let item = any as? [String: Any] else { throw ReplyProblem("prompts[\(index)] is not an object") }
            let prompt = try ReplyJSON.text(item, "prompt", at: "prompts[\(index)]")
            guard prompt.count <= maxCharacters else { throw ReplyProblem("prompts[\(index)].prompt has \(prompt.count) characters (at most \(maxCharacters))") }
            out.append(GeneratedPrompt(prompt: prompt, rationale: try ReplyJSON.text(item, "rationale", at: "prompts[\(index)]")))
        }
        return out
    }
}
