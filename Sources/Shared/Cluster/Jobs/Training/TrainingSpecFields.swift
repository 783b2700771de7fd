import Foundation
import Fusion
import Yams

/// The training jobs' accessors over Fusion's `SpecFields` (the one reader of a job file's top-level keys): stricter
/// integers and numbers with ranges, booleans, choices and non-empty paths; every error is a `JobSpecError` naming the key.
struct TrainingSpecFields {
    let fields: SpecFields
    var top: Node.Mapping { fields.top }

    init(yaml: String, source: String, baseDirectory: String) throws {
        fields = try SpecFields(yaml: yaml, source: source, baseDirectory: baseDirectory, document: "job keys") {
            JobSpecError(source: $0, key: $1, reason: $2)
        }
    }

    func fail(_ key: String, _ reason: String) -> any Error { fields.fail(key, reason) }

    var keys: [String] { fields.keys }

    func string(_ key: String) throws -> String? { try fields.string(key) }

    /// One of `choices`.
    func choice(_ key: String, _ choices: [String]) throws -> String? {
        guard let s = try string(key) else { return nil }
        guard choices.contains(s) else { throw fail(key, "'\(s)' is not one of \(choices.joined(separator: ", "))") }
        return s
    }

    /// An integer within `range`.
    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let node = top[key] else { return nil }
        guard let i = node.int, node.scalar != nil, !(node.any is Bool), node.float.map({ $0 == $0.rounded() }) ?? true else {
            throw fail(key, "expected an integer")
        }
        guard range.contains(i) else { throw fail(key, "\(i) is out of range: must be in \(range.lowerBound)...\(range.upperBound)") }
        return i
    }

    /// A finite number accepted by `valid` (whose text says what is allowed).
    func number(_ key: String, _ requirement: String, _ valid: (Double) -> Bool) throws -> Double? {
        guard let node = top[key] else { return nil }
        guard node.scalar != nil, !(node.any is Bool), let d = node.float ?? node.int.map({ Double($0) }), d.isFinite else {
            throw fail(key, "expected a number")
        }
        guard valid(d) else { throw fail(key, "\(d) is out of range: \(requirement)") }
        return d
    }

    func bool(_ key: String) throws -> Bool? {
        guard let node = top[key] else { return nil }
        guard let b = node.bool, node.scalar != nil else { throw fail(key, "expected true or false") }
        return b
    }

    func path(_ key: String) throws -> String? {
        guard let s = try string(key) else { return nil }
        guard !s.isEmpty else { throw fail(key, "empty path") }
        return fields.resolve(s)
    }
}
