import Foundation

/// The parts of an OpenAI chat-completions reply we read: the first choice's text, why it stopped, token usage.
public struct ChatCompletion: Sendable, Hashable {
    public var content: String
    public var finishReason: String?
    public var promptTokens: Int
    public var completionTokens: Int

    private struct Wire: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable { var content: String? }
            var message: Message?
            var finish_reason: String?
        }
        struct Usage: Decodable { var prompt_tokens: Int?; var completion_tokens: Int? }
        var choices: [Choice]?
        var usage: Usage?
    }

    /// Decodes a 200 reply body; a body that is not chat-completions JSON is a `ReplyProblem` (retried).
    public static func decode(_ body: Data) throws -> ChatCompletion {
        let wire: Wire
        do { wire = try JSONDecoder().decode(Wire.self, from: body) } catch {
            throw ReplyProblem("the HTTP body is not chat-completions JSON: \(ReplyProblem.excerpt(String(decoding: body, as: UTF8.self)))")
        }
        guard let choice = wire.choices?.first else { throw ReplyProblem("the reply has no choices") }
        guard let content = choice.message?.content, !content.isEmpty else {
            throw ReplyProblem("the first choice has no message content (finish_reason \(choice.finish_reason ?? "none"))")
        }
        return ChatCompletion(content: content, finishReason: choice.finish_reason,
                              promptTokens: wire.usage?.prompt_tokens ?? 0, completionTokens: wire.usage?.completion_tokens ?? 0)
    }
}

/// A reply that cannot be used (bad JSON, ignored schema, wrong fields): logged, counted and asked again, never written.
public struct ReplyProblem: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }

    /// The first characters of a reply, on one line, for a log message.
    public static func excerpt(_ text: String, limit: Int = 160) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count > limit ? "\"" + flat.prefix(limit) + "…\"" : "\"" + flat + "\""
    }
}
