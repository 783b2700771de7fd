import Foundation

/// Parses the strict TOML subset cluster.conf needs: `[table]` headers, bare keys, basic and literal strings,
/// integers, floats, booleans and (possibly multi-line) arrays of strings, with `#` comments.
///
/// Anything else (inline tables, dates, arrays of tables, dotted or quoted keys, multi-line strings) is rejected
/// with file:line rather than half-understood: a config file that parses means what it says.
///
/// Kept hand-written rather than TOMLKit 0.6.0: TOMLKit's values carry no source positions (only its parse errors
/// do), and every cluster.conf error must name `file:line` and the key; it would also add toml++'s C++ to the build.
public enum TOMLParser {
    public static func parse(_ text: String, file: String) throws(TOMLError) -> TOMLDocument {
        var scanner = TOMLScanner(bytes: Array(text.utf8), file: file)
        return try scanner.document()
    }
}

/// Byte cursor with line tracking; one instance per parse.
struct TOMLScanner {
    let bytes: [UInt8]
    let file: String
    var pos = 0
    var line = 1
    /// The table being read, so errors name keys as `table.key`.
    var table = ""

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    mutating func document() throws(TOMLError) -> TOMLDocument {
        var tables = [TOMLTable(name: "", line: 0)]
        while true {
            skipBlankLines()
            guard let c = peek() else { break }
            if c == UInt8(ascii: "[") {
                let headerLine = line
                let name = try header()
                if tables.contains(where: { $0.name == name }) {
                    throw fail("table [\(name)] is defined twice", line: headerLine)
                }
                tables.append(TOMLTable(name: name, line: headerLine))
                table = name
            } else {
                let keyLine = line
                let key = try bareKey()
                skipSpaces()
                guard peek() == UInt8(ascii: "=") else { throw fail("expected '=' after key '\(key)'", key: key) }
                pos += 1
                skipSpaces()
                let value = try self.value(key: key)
                try endOfLine(key: key)
                var table = tables[tables.count - 1]
                if table.entries[key] != nil { throw fail("key is set twice in this table", line: keyLine, key: key) }
                table.entries[key] = TOMLEntry(value: value, line: keyLine)
                table.keyOrder.append(key)
                tables[tables.count - 1] = table
            }
        }
        return TOMLDocument(file: file, tables: tables)
    }

    // MARK: Structure

    private mutating func header() throws(TOMLError) -> String {
        pos += 1  // '['
        if peek() == UInt8(ascii: "[") { throw fail("arrays of tables ([[...]]) are not supported in cluster.conf") }
        skipSpaces()
        let start = pos
        while let c = peek(), Self.isBareKey(c) || c == UInt8(ascii: ".") { pos += 1 }
        let name = String(decoding: bytes[start..<pos], as: UTF8.self)
        guard !name.isEmpty else { throw fail("expected a table name inside [ ]") }
        skipSpaces()
        guard peek() == UInt8(ascii: "]") else { throw fail("expected ']' to close table header [\(name)") }
        pos += 1
        try endOfLine(key: nil)
        return name
    }

    private mutating func bareKey() throws(TOMLError) -> String {
        let start = pos
        while let c = peek(), Self.isBareKey(c) { pos += 1 }
        guard pos > start else {
            let c = peek().map { String(decoding: [$0], as: UTF8.self) } ?? "end of file"
            throw fail("expected a key (letters, digits, '_' or '-'), found '\(c)'")
        }
        if peek() == UInt8(ascii: ".") { throw fail("dotted keys are not supported; use a [table] header") }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    /// After a value or header only spaces and a comment may follow on the line.
    private mutating func endOfLine(key: String?) throws(TOMLError) {
        skipSpaces()
        skipComment()
        guard let c = peek() else { return }
        if c == UInt8(ascii: "\n") { pos += 1; line += 1; return }
        if c == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") { pos += 2; line += 1; return }
        throw fail("unexpected text after the value; one `key = value` per line", key: key)
    }

    // MARK: Values

    private mutating func value(key: String) throws(TOMLError) -> TOMLValue {
        guard let c = peek(), c != UInt8(ascii: "\n"), c != UInt8(ascii: "#") else {
            throw fail("missing value after '='", key: key)
        }
        switch c {
        case UInt8(ascii: "\""): return .string(try basicString(key: key))
        case UInt8(ascii: "'"): return .string(try literalString(key: key))
        case UInt8(ascii: "["): return .stringArray(try stringArray(key: key))
        case UInt8(ascii: "{"): throw fail("inline tables are not supported; use a [table] header", key: key)
        default: return try scalar(key: key)
        }
    }

    private mutating func basicString(key: String) throws(TOMLError) -> String {
        if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
            throw fail("multi-line strings are not supported", key: key)
        }
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek(), c != UInt8(ascii: "\n") else { throw fail("unterminated string", key: key) }
            pos += 1
            if c == UInt8(ascii: "\"") { break }
            if c != UInt8(ascii: "\\") { out.append(c); continue }
            guard let e = peek() else { throw fail("unterminated string", key: key) }
            pos += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(e)
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let digits = e == UInt8(ascii: "u") ? 4 : 8
                guard pos + digits <= bytes.count,
                      let code = UInt32(String(decoding: bytes[pos..<pos + digits], as: UTF8.self), radix: 16),
                      let scalar = Unicode.Scalar(code)
                else { throw fail("invalid \\\(Character(Unicode.Scalar(e))) escape", key: key) }
                pos += digits
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))' in string", key: key)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func literalString(key: String) throws(TOMLError) -> String {
        if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
            throw fail("multi-line strings are not supported", key: key)
        }
        pos += 1
        let start = pos
        while let c = peek(), c != UInt8(ascii: "'") {
            if c == UInt8(ascii: "\n") { throw fail("unterminated string", key: key) }
            pos += 1
        }
        guard peek() != nil else { throw fail("unterminated string", key: key) }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        pos += 1
        return text
    }

    private mutating func stringArray(key: String) throws(TOMLError) -> [String] {
        pos += 1  // '['
        var items: [String] = []
        while true {
            skipBlankLines()
            guard let c = peek() else { throw fail("unterminated array", key: key) }
            if c == UInt8(ascii: "]") { pos += 1; return items }
            switch c {
            case UInt8(ascii: "\""): items.append(try basicString(key: key))
            case UInt8(ascii: "'"): items.append(try literalString(key: key))
            default: throw fail("arrays may only hold strings", key: key)
            }
            skipBlankLines()
            if peek() == UInt8(ascii: ",") { pos += 1; continue }
            guard peek() == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in array", key: key) }
        }
    }

    private mutating func scalar(key: String) throws(TOMLError) -> TOMLValue {
        let start = pos
        while let c = peek(), !Self.endsScalar(c) { pos += 1 }
        let token = String(decoding: bytes[start..<pos], as: UTF8.self)
        if token == "true" { return .boolean(true) }
        if token == "false" { return .boolean(false) }
        guard let first = token.utf8.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-")
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
        else { throw fail("'\(token)' is not a value; strings need quotes", key: key) }
        guard Self.underscoresValid(token) else { throw fail("'\(token)': '_' must sit between digits", key: key) }
        let plain = token.replacingOccurrences(of: "_", with: "")
        if plain.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            guard let d = Double(plain), d.isFinite, !plain.hasSuffix("."), !plain.hasPrefix(".") else {
                throw fail("'\(token)' is not a valid float", key: key)
            }
            return .float(d)
        }
        guard let i = Int64(plain) else { throw fail("'\(token)' is not a valid integer", key: key) }
        let digits = plain.drop { $0 == "+" || $0 == "-" }
        if digits.count > 1, digits.hasPrefix("0") { throw fail("'\(token)': leading zeros are not allowed", key: key) }
        return .integer(i)
    }

    // MARK: Low level

    private func peek(_ ahead: Int = 0) -> UInt8? { pos + ahead < bytes.count ? bytes[pos + ahead] : nil }

    private mutating func skipSpaces() {
        while let c = peek(), c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") { pos += 1 }
    }

    private mutating func skipComment() {
        guard peek() == UInt8(ascii: "#") else { return }
        while let c = peek(), c != UInt8(ascii: "\n") { pos += 1 }
    }

    /// Spaces, comments and newlines (between statements, and inside arrays).
    private mutating func skipBlankLines() {
        while true {
            skipSpaces()
            skipComment()
            guard let c = peek() else { return }
            if c == UInt8(ascii: "\n") { pos += 1; line += 1 } else if c == UInt8(ascii: "\r") { pos += 1 } else { return }
        }
    }

    private static func isBareKey(_ c: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }

    private static func endsScalar(_ c: UInt8) -> Bool {
        c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r")
            || c == UInt8(ascii: "#") || c == UInt8(ascii: ",") || c == UInt8(ascii: "]")
    }

    private static func underscoresValid(_ token: String) -> Bool {
        let chars = Array(token)
        for (i, c) in chars.enumerated() where c == "_" {
            guard i > 0, i < chars.count - 1, chars[i - 1].isNumber, chars[i + 1].isNumber else { return false }
        }
        return true
    }

    private func fail(_ reason: String, line: Int? = nil, key: String? = nil) -> TOMLError {
        let qualified = key.map { table.isEmpty ? $0 : "\(table).\($0)" }
        return TOMLError(file: file, line: line ?? self.line, key: qualified, reason: reason)
    }
}
