import Foundation
import Yams

/// Typed access to the top-level keys of a training job's YAML; every error is a `JobSpecError` naming the key.
/// (Fusion's SpecFields does the same for merge-search but is internal to Fusion and throws MergeError; this
/// reader keeps training jobs' errors in the cluster's own error type.)
struct TrainingSpecFields {
    let top: Node.Mapping
    let source: String
    let baseDirectory: String

    init(yaml: String, source: String, baseDirectory: String) throws {
        self.source = source
        self.baseDirectory = baseDirectory
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw JobSpecError(source: source, key: "(document)", reason: "not valid YAML: \(error)")
        }
        guard let top = root?.mapping else {
            throw JobSpecError(source: source, key: "(document)", reason: "expected a mapping of job keys")
        }
        self.top = top
    }

    func fail(_ key: String, _ reason: String) -> JobSpecError { JobSpecError(source: source, key: key, reason: reason) }

    var keys: [String] { top.keys.map { $0.string ?? "?" } }

    func string(_ key: String) throws -> String? {
        guard let node = top[key] else { return nil }
        guard let s = node.scalar, node.null == nil, node.mapping == nil, node.sequence == nil else {
            throw fail(key, "expected a string")
        }
        return s.string
    }

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
        return resolve(s)
    }

    /// Absolute paths stay; relative ones are taken from the job file's directory.
    func resolve(_ path: String) -> String {
        if path.hasPrefix("/") || baseDirectory.isEmpty { return path }
        return URL(fileURLWithPath: baseDirectory).appendingPathComponent(path).standardizedFileURL.path
    }
}
