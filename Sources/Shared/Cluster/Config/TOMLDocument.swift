/// A value of the strict TOML subset cluster.conf uses.
public enum TOMLValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case stringArray([String])

    /// The TOML type name, for error messages.
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .stringArray: "array of strings"
        }
    }

    public var description: String {
        switch self {
        case .string(let s): "\"\(s)\""
        case .integer(let i): String(i)
        case .float(let d): String(d)
        case .boolean(let b): String(b)
        case .stringArray(let a): "[" + a.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        }
    }
}

/// One `key = value` line: the value and where it was written.
public struct TOMLEntry: Sendable, Equatable {
    public var value: TOMLValue
    public var line: Int
}

/// One `[table]` (the unnamed root table holds keys written before any header).
public struct TOMLTable: Sendable, Equatable {
    public var name: String
    /// Line of the `[name]` header (0 for the root table).
    public var line: Int
    public var entries: [String: TOMLEntry] = [:]
    /// Keys in file order, so unknown-key errors point at the first offender.
    public var keyOrder: [String] = []
}

/// A parsed TOML file: its tables by name, in file order.
public struct TOMLDocument: Sendable, Equatable {
    /// Where the text came from, for error messages.
    public var file: String
    public var tables: [TOMLTable]

    public func table(_ name: String) -> TOMLTable? { tables.first { $0.name == name } }
}

/// A TOML syntax error or a schema error, always naming file:line (and the key when there is one).
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var key: String?
    public var reason: String

    public init(file: String, line: Int, key: String? = nil, reason: String) {
        self.file = file
        self.line = line
        self.key = key
        self.reason = reason
    }

    public var description: String {
        if let key { return "\(file):\(line): key '\(key)': \(reason)" }
        return "\(file):\(line): \(reason)"
    }
}
