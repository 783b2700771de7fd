import Foundation
import Yams

/// Typed access to the top-level keys of a job's YAML file; every error names the file and the key. Merge-search
/// specs read it with MergeError; the cluster's training jobs with their own error type (`makeError`).
public struct SpecFields {
    /// Builds the error for (file, key, reason).
    public typealias ErrorMaker = (_ source: String, _ key: String, _ reason: String) -> any Error

    public let top: Node.Mapping
    public let source: String
    public let baseDirectory: String
    private let makeError: ErrorMaker

    /// A merge-search spec: errors are `MergeError.badConfig`.
    init(yaml: String, source: String, baseDirectory: String) throws {
        try self.init(yaml: yaml, source: source, baseDirectory: baseDirectory, document: "merge-search keys") {
            MergeError.badConfig(file: $0, key: $1, reason: $2)
        }
    }

    /// Any job file whose top level is a mapping of `document` (e.g. "job keys"); errors come from `makeError`.
    public init(yaml: String, source: String, baseDirectory: String, document: String, makeError: @escaping ErrorMaker) throws {
        self.source = source
        self.baseDirectory = baseDirectory
        self.makeError = makeError
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw makeError(source, "(document)", "not valid YAML: \(error)")
        }
        guard let top = root?.mapping else { throw makeError(source, "(document)", "expected a mapping of \(document)") }
        self.top = top
    }

    public func fail(_ key: String, _ reason: String) -> any Error { makeError(source, key, reason) }

    public var keys: [String] { top.keys.map { $0.string ?? "?" } }

    func has(_ key: String) -> Bool { top[key] != nil }

    public func string(_ key: String) throws -> String? {
        guard let node = top[key] else { return nil }
        guard let s = node.scalar, node.null == nil else { throw fail(key, "expected a string") }
        return s.string
    }

    /// An integer of at least `minimum`.
    func int(_ key: String, atLeast minimum: Int) throws -> Int? {
        guard let node = top[key] else { return nil }
        guard let i = node.int, !(node.any is Bool) else { throw fail(key, "expected an integer") }
        guard i >= minimum else { throw fail(key, "must be at least \(minimum)") }
        return i
    }

    func number(_ key: String) throws -> Double? {
        guard let node = top[key] else { return nil }
        return try number(node, key)
    }

    /// A string or a list of strings.
    func strings(_ key: String) throws -> [String]? {
        guard let node = top[key] else { return nil }
        if let s = node.scalar, node.null == nil { return [s.string] }
        guard let seq = node.sequence else { throw fail(key, "expected a string or a list of strings") }
        return try seq.enumerated().map { i, n in
            guard let s = n.scalar, n.null == nil else { throw fail("\(key)[\(i)]", "expected a string") }
            return s.string
        }
    }

    func path(_ key: String) throws -> String? { try string(key).map(resolve) }

    func paths(_ key: String) throws -> [String]? { try strings(key)?.map(resolve) }

    /// Absolute paths stay; relative ones are taken from the file's directory.
    public func resolve(_ path: String) -> String {
        if path.hasPrefix("/") || baseDirectory.isEmpty { return path }
        return URL(fileURLWithPath: baseDirectory).appendingPathComponent(path).standardizedFileURL.path
    }

    /// Subset names, or `{kind, include, exclude}` mappings as in merge configs.
    func subsets(_ key: String) throws -> [ParameterSubset]? {
        guard let node = top[key] else { return nil }
        guard let seq = node.sequence ?? (node.scalar != nil ? [node] : nil), !seq.isEmpty else {
            throw fail(key, "expected a list of subsets")
        }
        let subsets = try seq.enumerated().map { try YAMLReader(source: source).subset($1, "\(key)[\($0)]") }
        guard Set(subsets).count == subsets.count else { throw fail(key, "list each subset once") }
        return subsets
    }

    func numbers(_ key: String) throws -> [String: Double]? {
        guard let node = top[key] else { return nil }
        return try numberMap(node, key)
    }

    func nestedNumbers(_ key: String) throws -> [String: [String: Double]]? {
        guard let node = top[key] else { return nil }
        guard let m = node.mapping else { throw fail(key, "expected a mapping of method names to parameters") }
        var out: [String: [String: Double]] = [:]
        for (k, v) in m {
            let name = k.string ?? "?"
            out[name] = try numberMap(v, "\(key).\(name)")
        }
        return out
    }

    private func numberMap(_ node: Node, _ key: String) throws -> [String: Double] {
        guard let m = node.mapping else { throw fail(key, "expected a mapping of names to numbers") }
        var out: [String: Double] = [:]
        for (k, v) in m {
            let name = k.string ?? "?"
            out[name] = try number(v, "\(key).\(name)")
        }
        return out
    }

    private func number(_ node: Node, _ key: String) throws -> Double {
        guard let d = node.float ?? node.int.map({ Double($0) }), d.isFinite, !(node.any is Bool) else {
            throw fail(key, "expected a number")
        }
        return d
    }
}
