/// The JSON shapes asked of the model, as `response_format` json_schema (and spelled out in the prompt
/// for servers that only take json_object or plain text).
public enum ReplySchemas {
    private static func object(_ properties: [String: JSONValue], required: [String]) -> JSONValue {
        .object(["type": .string("object"), "properties": .object(properties),
                 "required": .array(required.map(JSONValue.string)), "additionalProperties": .bool(false)])
    }
    private static let string: JSONValue = .object(["type": .string("string")])

    /// `{"prompts": [{"prompt", "rationale"}]}`.
    public static let generatedPrompts = ReplySchema(name: "generated_prompts", schema: object([
        "prompts": .object(["type": .string("array"), "items": object(["prompt": string, "rationale": string], required: ["prompt", "rationale"])]),
    ], required: ["prompts"]))

    /// `{"judgements": [{"id", "label", "reason"}]}`.
    public static let judgements = ReplySchema(name: "label_judgements", schema: object([
        "judgements": .object(["type": .string("array"), "items": object([
            "id": .object(["type": .string("integer")]),
            "label": .object(["type": .string("string"), "enum": .array([.string("safe"), .string("unsafe")])]),
            "reason": string,
        ], required: ["id", "label", "reason"])]),
    ], required: ["judgements"]))

    /// `{"critique", "revised_policy_yaml"}`.
    public static let policyRevision = ReplySchema(name: "policy_revision", schema: object([
        "critique": string, "revised_policy_yaml": string,
    ], required: ["critique", "revised_policy_yaml"]))
}
