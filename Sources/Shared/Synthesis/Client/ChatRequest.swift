import Foundation

/// One message of a chat-completions conversation.
public struct ChatMessage: Sendable, Hashable, Codable {
    public var role: String
    public var content: String
    public init(role: String, content: String) { self.role = role; self.content = content }
    public static func system(_ text: String) -> ChatMessage { .init(role: "system", content: text) }
    public static func user(_ text: String) -> ChatMessage { .init(role: "user", content: text) }
}

/// How strictly the reply's shape is requested, from most to least structured. Servers that reject a level
/// (HTTP 400/422 naming the request) are asked again one level down.
public enum ResponseFormatLevel: Int, Sendable, Comparable, CaseIterable, Codable, CustomStringConvertible {
    /// `response_format: {"type": "json_schema", ...}`: vLLM, llama.cpp, Ollama, OpenAI.
    case jsonSchema
    /// `response_format: {"type": "json_object"}`: JSON of any shape; the schema is in the prompt.
    case jsonObject
    /// No `response_format`; the JSON is found in the reply's text.
    case text

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { ["json_schema", "json_object", "text"][rawValue] }
    /// The next level down, nil at plain text.
    public var fallback: ResponseFormatLevel? { ResponseFormatLevel(rawValue: rawValue + 1) }
}

/// A JSON schema the reply must follow, named (OpenAI requires `json_schema.name`).
public struct ReplySchema: Sendable, Hashable {
    public let name: String
    public let schema: JSONValue
    public init(name: String, schema: JSONValue) { self.name = name; self.schema = schema }
}

/// A `POST /chat/completions` request body, rendered for one response-format level.
public struct ChatRequest: Sendable, Hashable {
    public var model: String
    public var messages: [ChatMessage]
    public var temperature: Double
    /// Sent as `seed`; 32 bits, because llama.cpp reads it as uint32.
    public var seed: UInt32?
    public var maxTokens: Int?
    public var schema: ReplySchema

    public init(model: String, messages: [ChatMessage], temperature: Double, seed: UInt32?, maxTokens: Int?, schema: ReplySchema) {
        self.model = model; self.messages = messages; self.temperature = temperature
        self.seed = seed; self.maxTokens = maxTokens; self.schema = schema
    }

    /// The JSON body for `level`.
    public func body(level: ResponseFormatLevel) throws -> Data {
        var object: [String: JSONValue] = [
            "model": .string(model),
            "messages": .array(messages.map { .object(["role": .string($0.role), "content": .string($0.content)]) }),
            "temperature": .number(temperature),
            "stream": .bool(false),
        ]
        if let seed { object["seed"] = .number(Double(seed)) }
        if let maxTokens { object["max_tokens"] = .number(Double(maxTokens)) }
        switch level {
        case .jsonSchema:
            object["response_format"] = .object([
                "type": .string("json_schema"),
                "json_schema": .object(["name": .string(schema.name), "strict": .bool(true), "schema": schema.schema]),
            ])
        case .jsonObject:
            object["response_format"] = .object(["type": .string("json_object")])
        case .text:
            break
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(JSONValue.object(object))
    }
}
