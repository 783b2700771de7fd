/// Why a policy file or pack cannot be loaded; every case names the file and says what to do.
public enum PolicyError: Error, CustomStringConvertible, Sendable, Equatable {
    case unreadable(path: String, reason: String)
    case syntax(path: String, line: Int?, problem: String)
    case missingField(path: String, line: Int?, field: String)
    case unknownField(path: String, line: Int?, field: String, allowed: [String], suggestion: String?)
    case wrongType(path: String, line: Int?, field: String, expected: String, got: String)
    case invalidValue(path: String, line: Int?, field: String, problem: String)
    case duplicateID(id: String, firstPath: String, secondPath: String)
    case emptyPack(directory: String)
    case unknownPolicy(id: String, known: [String])

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read policy file: \(reason)"
        case let .syntax(path, line, problem):
            return "\(Self.at(path, line)): YAML syntax error: \(problem); fix the YAML (indentation, quotes, ':' after keys)"
        case let .missingField(path, line, field):
            return "\(Self.at(path, line)): field '\(field)' is missing; add it (a policy needs id, name, description, allowed, disallowed, examples.safe, examples.unsafe)"
        case let .unknownField(path, line, field, allowed, suggestion):
            let hint = suggestion.map { "did you mean '\($0)'? " } ?? ""
            return "\(Self.at(path, line)): unknown field '\(field)'; \(hint)allowed fields here: \(allowed.joined(separator: ", "))"
        case let .wrongType(path, line, field, expected, got):
            return "\(Self.at(path, line)): field '\(field)': expected \(expected), got \(got)"
        case let .invalidValue(path, line, field, problem):
            return "\(Self.at(path, line)): field '\(field)': \(problem)"
        case let .duplicateID(id, first, second):
            return "\(second): policy id '\(id)' is already used by \(first); ids must be unique within a pack (rename one)"
        case let .emptyPack(directory):
            return "\(directory): no *.yaml policy files found; point --policies at a directory like policies/"
        case let .unknownPolicy(id, known):
            return "unknown policy '\(id)'; known policies: \(known.joined(separator: ", "))"
        }
    }

    private static func at(_ path: String, _ line: Int?) -> String {
        line.map { "\(path):\($0)" } ?? path
    }
}
