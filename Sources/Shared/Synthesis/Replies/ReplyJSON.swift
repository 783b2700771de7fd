import Foundation

/// Finds the JSON object in a reply's text: the whole text, a fenced ```json block, or the span from the first
/// `{` to the last `}` (what chat models in plain-text mode wrap their JSON in).
enum ReplyJSON {
    static func object(in content: String) throws -> [String: Any] {
        let trimmed = content.trimmingCharacters(in: .whitespacesAndNewlines)
        var candidates = [trimmed]
        if let fence = trimmed.range(of: "```") {
            var rest = trimmed[fence.upperBound...]
            if let newline = rest.firstIndex(of: "\n") { rest = rest[rest.index(after: newline)...] }
            if let close = rest.range(of: "```") { candidates.append(String(rest[..<close.lowerBound])) }
        }
        if let first = trimmed.firstIndex(of: "{"), let last = trimmed.lastIndex(of: "}"), first < last {
            candidates.append(String(trimmed[first...last]))
        }
        for candidate in candidates {
            guard let data = candidate.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
            return object
        }
        throw ReplyProblem("no JSON object in the reply: \(ReplyProblem.excerpt(content))")
    }

    /// A non-empty string field of `item`, or a problem naming it.
    static func text(_ item: [String: Any], _ key: String, at place: String) throws -> String {
        guard let value = item[key] as? String else { throw ReplyProblem("\(place): \"\(key)\" is missing or not a string") }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ReplyProblem("\(place): \"\(key)\" is empty") }
        return trimmed
    }
}
