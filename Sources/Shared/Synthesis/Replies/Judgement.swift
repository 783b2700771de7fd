import Foundation
import GuardData

/// The judge's verdict on one prompt of a reflection request.
public struct Judgement: Sendable, Hashable {
    public var label: SafetyLabel
    public var reason: String

    /// Reads a reflection reply for `count` items: exactly one judgement per id 0..<count, or the reply is unusable.
    public static func parse(_ content: String, count: Int) throws -> [Judgement] {
        let object = try ReplyJSON.object(in: content)
        guard let items = object["judgements"] as? [Any] else {
            throw ReplyProblem("no \"judgements\" array (the reply ignored the schema; keys: \(object.keys.sorted().joined(separator: ", ")))")
        }
        var out = [Judgement?](repeating: nil, count: count)
        for (index, any) in items.enumerated() {
            let place = "judgements[\(index)]"
            guard let item = any as? [String: Any] else { throw ReplyProblem("\(place) is not an object") }
            guard let number = item["id"] as? NSNumber, let id = Int(exactly: number.doubleValue), (0..<count).contains(id) else {
                throw ReplyProblem("\(place): \"id\" must be an integer in 0..<\(count)")
            }
            guard out[id] == nil else { throw ReplyProblem("\(place): id \(id) judged twice") }
            let labelText = try ReplyJSON.text(item, "label", at: place).lowercased()
            guard let label = SafetyLabel(rawValue: labelText) else { throw ReplyProblem("\(place): \"label\" must be safe or unsafe, got \(ReplyProblem.excerpt(labelText))") }
            out[id] = Judgement(label: label, reason: try ReplyJSON.text(item, "reason", at: place))
        }
        let missing = out.indices.filter { out[$0] == nil }
        guard missing.isEmpty else { throw ReplyProblem("no judgement for id \(missing.prefix(5).map(String.init).joined(separator: ", "))") }
        return out.map { $0! }
    }
}
