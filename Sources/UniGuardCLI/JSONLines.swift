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
    private var lines = StandardInputLines()

    /// The next non-empty line parsed as a JSON object, nil at end of input.
    mutating func next() throws -> [String: Any]? {
        while let bytes = lines.next() {
            lineNumber += 1
            // readLine() would replace invalid bytes with U+FFFD and classify a different text: refuse the line.
            guard let raw = String(validating: bytes, as: UTF8.self) else { throw LineError(line: lineNumber, message: "not valid UTF-8") }
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

/// Standard input as raw lines (without the newline or a CR before it), undecoded.
struct StandardInputLines {
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    mutating func next() -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                var line = Array(buffer[start..<newline])
                start = newline + 1
                if line.last == 0x0D { line.removeLast() }
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return Array(buffer[start...])
            }
            buffer.removeFirst(start)
            start = 0
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if n <= 0 { atEnd = true } else { buffer.append(contentsOf: chunk[..<n]) }
        }
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
