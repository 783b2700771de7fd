import Foundation

/// `POST /v1/classify`: the JSON lines of `uniguard classify` as one request: `{"text", "policy"?}` or a list of them
/// → `{"label", "score", "policy"}` or a list. `policy` names a served policy (it may be left out when only one is).
struct ClassifyRequest {
    struct Item { let text: String; let policy: Int }
    let items: [Item]
    /// Whether the body was a single object (answered with an object) rather than a list.
    let single: Bool

    init(json: Any, catalog: GuardCatalog, limits: RequestLimits) throws {
        let objects: [(Any, String)]
        if let list = json as? [Any] {
            guard !list.isEmpty else { throw APIError.field("body", "an empty list; give at least one {\"text\"}") }
            guard list.count <= limits.maxInputs else {
                throw APIError(.contentTooLarge, "\(list.count) items; at most \(limits.maxInputs) per request", param: "body")
            }
            objects = list.enumerated().map { ($1, "[\($0)].") }
            single = false
        } else {
            objects = [(json, "")]
            single = true
        }
        items = try objects.map { value, prefix in
            guard let obj = value as? [String: Any] else { throw APIError.field(prefix.isEmpty ? "body" : String(prefix.dropLast()), "expected an object {\"text\", \"policy\"?}") }
            let text = try JSONBody.text(obj["text"], field: prefix + "text", limits: limits)
            let policy: Int
            if let p = obj["policy"] {
                guard let id = p as? String, let index = catalog.policyIndex(id) else {
                    throw APIError.field(prefix + "policy", "\(p) is not served here; served: \(catalog.policies.map(\.id).joined(separator: ", "))")
                }
                policy = index
            } else {
                guard catalog.policies.count == 1 else {
                    throw APIError.field(prefix + "policy", "missing; \(catalog.policies.count) policies are served: \(catalog.policies.map(\.id).joined(separator: ", "))")
                }
                policy = 0
            }
            return Item(text: text, policy: policy)
        }
    }
}
