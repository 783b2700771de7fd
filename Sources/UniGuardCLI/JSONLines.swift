import Foundation

/// Reads JSON objects one per stdin line and writes JSON lines to stdout; errors name the input line.
struct JSONLinesInput {
    /// A problem with one input line; the message names it and says what was expected.
    struct LineError: Error, CustomStringConvertible {
        let line: Int
        let message: String
        var description: String { "stdin:\(line): \(message)" }
    }

    private(set) var lineNumber = 0

    /// The next non-empty line parsed as a JSON object, nil at end of input.
    mutating func next() throws -> [String: Any]? {
        while let raw = readLine(strippingNewline: true) {
            lineNumber += 1
            if raw.allSatisfy(\.isWhitespace) { continue }
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(raw.utf8))) as? [String: Any] else {
                throw LineError(line: lineNumber, message: "not a JSON object (expected e.g. {\"text\": \"...\"})")
            }
            return obj
        }
        return nil
    }

    /// A required string field of a parsed line.
    func string(_ obj: [String: Any], _ field: String) throws -> String {
        guard let v = obj[field] else { throw LineError(line: lineNumber, message: "missing field '\(field)'") }
        guard let s = v as? String else { throw LineError(line: lineNumber, message: "field '\(field)' must be a string") }
        return s
    }
}

/// Output helpers that keep every stdout line a complete JSON object.
enum JSONOut {
    static func floats(_ p: UnsafePointer<Float>, count: Int) -> String {
        var s = "["
        s.reserveCapacity(count * 12)
        for i in 0..<count {
            if i > 0 { s += "," }
            let v = p[i]
            s += v.isFinite ? "\(v)" : "null"
        }
        return s + "]"
    }

    static func ints<T: BinaryInteger>(_ a: [T]) -> String { "[" + a.map { "\($0)" }.joined(separator: ",") + "]" }

    static func string(_ s: String) -> String {
        let d = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
        return String(String(decoding: d, as: UTF8.self).dropFirst().dropLast())
    }

    static func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
