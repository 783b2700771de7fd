import Foundation

/// OpenAI's moderation API shape: `{"input": "..." | ["...", ...] | [{"type": "text", "text": "..."}], "model"?}`
/// plus our `"policies": [id]` to check only some of the served policies.
struct ModerationRequest {
    let inputs: [String]
    /// Served policy indices to check, in catalog order.
    let policies: [Int]
    /// The `model` value echoed back: the model asked for, or the names of the models answering.
    let modelLabel: String

    init(json: Any, catalog: GuardCatalog, limits: RequestLimits) throws {
        guard let obj = json as? [String: Any] else { throw APIError.field("body", "expected a JSON object with an \"input\" field") }
        switch obj["input"] {
        case let s as String:
            inputs = [try JSONBody.text(s, field: "input", limits: limits)]
        case let list as [Any]:
            guard !list.isEmpty else { throw APIError.field("input", "an empty list; give at least one string") }
            guard list.count <= limits.maxInputs else {
                throw APIError(.contentTooLarge, "\(list.count) inputs; at most \(limits.maxInputs) per request", param: "input")
            }
            inputs = try list.enumerated().map { i, item in
                if let part = item as? [String: Any] {
                    guard part["type"] as? String == "text" else {
                        throw APIError.field("input[\(i)].type", "only \"text\" parts are served (this is a text classifier)")
                    }
                    return try JSONBody.text(part["text"], field: "input[\(i)].text", limits: limits)
                }
                return try JSONBody.text(item, field: "input[\(i)]", limits: limits)
            }
        case nil: throw APIError.field("input", "missing; expected a string or a list of strings")
        default: throw APIError.field("input", "expected a string or a list of strings")
        }
        var chosen = Array(catalog.policies.indices)
        var label = catalog.models.map(\.name).joined(separator: ",")
        if let model = obj["model"] {
            guard let name = model as? String, let m = catalog.modelIndex(name) else {
                throw APIError(.notFound, "unknown model \(String(describing: model)); loaded: \(catalog.models.map(\.name).joined(separator: ", ")) (GET /v1/models)", param: "model", type: "invalid_request_error")
            }
            chosen = chosen.filter { catalog.policies[$0].modelIndex == m }
            label = name
        }
        if let wanted = obj["policies"] {
            guard let ids = wanted as? [Any], !ids.isEmpty else { throw APIError.field("policies", "expected a non-empty list of policy ids") }
            var picked: [Int] = []
            for (i, id) in ids.enumerated() {
                guard let s = id as? String else { throw APIError.field("policies[\(i)]", "expected a string") }
                guard let p = catalog.policyIndex(s), chosen.contains(p) else {
                    throw APIError.field("policies[\(i)]", "'\(s)' is not served here; served: \(chosen.map { catalog.policies[$0].id }.joined(separator: ", "))")
                }
                if !picked.contains(p) { picked.append(p) }
            }
            chosen = picked
        }
        policies = chosen
        modelLabel = label
    }
}

/// The moderation response: one result per input, each with every checked policy as a category.
enum ModerationResponse {
    static func json(id: String, model: String, policies: [ServedPolicy], scores: [[Float]], inputCount: Int) -> [String: Any] {
        let results: [[String: Any]] = (0..<inputCount).map { i in
            var categories: [String: Any] = [:], categoryScores: [String: Any] = [:]
            var flagged = false
            for (p, policy) in policies.enumerated() {
                let score = scores[p][i]
                let hit = score >= policy.threshold
                flagged = flagged || hit
                categories[policy.id] = hit
                categoryScores[policy.id] = Double(score)
            }
            return ["flagged": flagged, "categories": categories, "category_scores": categoryScores]
        }
        return ["id": id, "model": model, "results": results]
    }
}
