import Foundation
import Yams

/// Strict YAML → `Policy`: unknown keys, missing fields, wrong types and empty lists are errors that
/// name the file, the field and the line, because a silently ignored typo would train a wrong guardrail.
public enum PolicyParser {
    /// Top-level keys of a policy file.
    public static let fields = ["id", "name", "description", "allowed", "disallowed", "examples"]
    /// Keys under `examples`.
    public static let exampleFields = ["safe", "unsafe"]

    /// Loads and validates one policy file.
    public static func load(path: String) throws -> Policy {
        let text: String
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw PolicyError.unreadable(path: path, reason: "not UTF-8 text")
            }
            text = decoded
        } catch let error as PolicyError {
            throw error
        } catch {
            throw PolicyError.unreadable(path: path, reason: FileManager.default.fileExists(atPath: path) ? error.localizedDescription : "no such file")
        }
        return try parse(yaml: text, path: path)
    }

    /// Parses policy YAML; `path` labels errors and is kept as `sourcePath`.
    public static func parse(yaml: String, path: String) throws -> Policy {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw PolicyError.syntax(path: path, line: nil, problem: "the file is empty; expected a mapping with \(fields.joined(separator: ", "))")
            }
            root = node
        } catch let error as PolicyError {
            throw error
        } catch let error as YamlError {
            throw syntaxError(error, path: path)
        } catch {
            throw PolicyError.syntax(path: path, line: nil, problem: "\(error)")
        }
        let top = try mapping(root, field: "(top level)", allowed: fields, path: path)
        let id = try string(top, "id", path: path, in: root)
        guard id.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) != nil else {
            throw PolicyError.invalidValue(path: path, line: top["id"]?.mark?.line, field: "id",
                                           problem: "'\(id)' is not a valid id; use lower-case letters, digits and '_', starting with a letter (e.g. tax_advice)")
        }
        let name = try string(top, "name", path: path, in: root)
        let description = try string(top, "description", path: path, in: root)
        let allowed = try stringList(top, "allowed", path: path, in: root)
        let disallowed = try stringList(top, "disallowed", path: path, in: root)
        guard let examplesNode = top["examples"] else {
            throw PolicyError.missingField(path: path, line: root.mark?.line, field: "examples")
        }
        let examples = try mapping(examplesNode, field: "examples", allowed: exampleFields, path: path)
        let safe = try stringList(examples, "safe", prefix: "examples.", path: path, in: examplesNode)
        let unsafe = try stringList(examples, "unsafe", prefix: "examples.", path: path, in: examplesNode)
        let safeSet = Set(safe.map(PromptText.normalized))
        if let clash = unsafe.first(where: { safeSet.contains(PromptText.normalized($0)) }) {
            throw PolicyError.invalidValue(path: path, line: examplesNode.mark?.line, field: "examples",
                                           problem: "prompt \"\(clash.prefix(60))\" is listed as both safe and unsafe; keep it in one list")
        }
        return Policy(id: id, name: name, description: description, allowed: allowed, disallowed: disallowed,
                      examples: PolicyExamples(safe: safe, unsafe: unsafe), sourcePath: path)
    }

    // MARK: - Node helpers

    /// Key → value node of a mapping, rejecting unknown and non-string keys.
    private static func mapping(_ node: Node, field: String, allowed: [String], path: String) throws -> [String: Node] {
        guard case let .mapping(map) = node else {
            throw PolicyError.wrongType(path: path, line: node.mark?.line, field: field, expected: "a mapping (key: value lines)", got: kind(node))
        }
        var result: [String: Node] = [:]
        let prefix = field == "(top level)" ? "" : field + "."
        for (keyNode, value) in map {
            guard case let .scalar(key) = keyNode else {
                throw PolicyError.wrongType(path: path, line: keyNode.mark?.line, field: field, expected: "plain keys", got: "a \(kind(keyNode)) used as a key")
            }
            guard allowed.contains(key.string) else {
                throw PolicyError.unknownField(path: path, line: keyNode.mark?.line, field: prefix + key.string,
                                               allowed: allowed, suggestion: closest(key.string, in: allowed))
            }
            result[key.string] = value
        }
        return result
    }

    private static func string(_ map: [String: Node], _ key: String, prefix: String = "", path: String, in parent: Node) throws -> String {
        guard let node = map[key] else {
            throw PolicyError.missingField(path: path, line: parent.mark?.line, field: prefix + key)
        }
        let text = try scalarText(node, field: prefix + key, path: path, expected: "a string")
        return text
    }

    private static func stringList(_ map: [String: Node], _ key: String, prefix: String = "", path: String, in parent: Node) throws -> [String] {
        let field = prefix + key
        guard let node = map[key] else {
            throw PolicyError.missingField(path: path, line: parent.mark?.line, field: field)
        }
        guard case let .sequence(items) = node else {
            throw PolicyError.wrongType(path: path, line: node.mark?.line, field: field,
                                        expected: "a list of strings (lines starting with '- ')", got: kind(node))
        }
        var out: [String] = []
        for (index, item) in items.enumerated() {
            out.append(try scalarText(item, field: "\(field)[\(index)]", path: path, expected: "a string"))
        }
        guard !out.isEmpty else {
            throw PolicyError.invalidValue(path: path, line: node.mark?.line, field: field, problem: "the list is empty; add at least one entry")
        }
        var seen: Set<String> = []
        for (index, text) in out.enumerated() where !seen.insert(PromptText.normalized(text)).inserted {
            throw PolicyError.invalidValue(path: path, line: items[index].mark?.line, field: "\(field)[\(index)]",
                                           problem: "duplicate entry \"\(text.prefix(60))\"; remove it")
        }
        return out
    }

    private static func scalarText(_ node: Node, field: String, path: String, expected: String) throws -> String {
        guard case let .scalar(scalar) = node, node.null == nil else {
            throw PolicyError.wrongType(path: path, line: node.mark?.line, field: field, expected: expected, got: kind(node))
        }
        let text = scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else {
            throw PolicyError.invalidValue(path: path, line: node.mark?.line, field: field, problem: "is empty; write some text or remove the entry")
        }
        return text
    }

    private static func kind(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if node.null != nil { return "nothing (null)" }
            return "a scalar \"\(scalar.string.prefix(40))\""
        }
    }

    private static func syntaxError(_ error: YamlError, path: String) -> PolicyError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let extra = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return .syntax(path: path, line: mark.line, problem: "\(problem)\(extra), column \(mark.column)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return .syntax(path: path, line: context.mark.line, problem: "duplicated key(s) \(duplicates.map { "'\($0)'" }.joined(separator: ", ")); each key may appear once")
        case let .reader(problem, _, _, _):
            return .syntax(path: path, line: nil, problem: problem)
        default:
            return .syntax(path: path, line: nil, problem: "\(error)")
        }
    }

    /// The allowed key nearest to a typo (edit distance ≤ 3), for "did you mean" hints.
    static func closest(_ word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0)) }.min { $0.1 < $1.1 }
        guard let best = scored, best.1 <= max(1, min(3, best.0.count / 2)) else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        for i in 1...x.count {
            var current = [i] + Array(repeating: 0, count: y.count)
            for j in 1...y.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[y.count]
    }
}
