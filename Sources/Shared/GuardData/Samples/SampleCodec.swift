import Foundation

/// Converts between one JSONL line and a `Sample`, strictly: every problem names the field at fault.
public enum SampleCodec {
    /// Parses one line. `path` and `line` only label the error.
    public static func decode(_ bytes: ArraySlice<UInt8>, path: String, line: Int) throws -> Sample {
        func fail(_ field: String?, _ problem: String) -> SampleError {
            SampleError(path: path, line: line, field: field, problem: problem)
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            throw fail(nil, "not valid JSON (\(jsonProblem(error))); each line must be one JSON object like {\"policy\":\"safety\",\"prompt\":\"...\",\"label\":\"safe\",\"source\":\"...\"}")
        }
        guard let fields = object as? [String: Any] else {
            throw fail(nil, "expected a JSON object, got \(typeName(object))")
        }
        for key in fields.keys.sorted() where !Sample.fieldNames.contains(key) {
            throw fail(key, "unknown field; a sample has only \(Sample.fieldNames.joined(separator: ", "))")
        }
        func requiredString(_ name: String) throws -> String {
            guard let value = fields[name] else { throw fail(name, "missing; every sample needs \"\(name)\"") }
            guard let text = value as? String else {
                throw fail(name, "expected a string, got \(typeName(value))")
            }
            guard PromptText.hasContent(text) else {
                throw fail(name, "is empty")
            }
            return text
        }
        let policy = try requiredString("policy")
        let prompt = try requiredString("prompt")
        let labelText = try requiredString("label")
        guard let label = SafetyLabel(rawValue: labelText) else {
            throw fail("label", "expected \"safe\" or \"unsafe\", got \(quoted(labelText))")
        }
        let source = try requiredString("source")
        var rationale: String?
        if let value = fields["rationale"], !(value is NSNull) {
            guard let text = value as? String else {
                throw fail("rationale", "expected a string or null, got \(typeName(value))")
            }
            rationale = text
        }
        return Sample(policy: policy, prompt: prompt, rationale: rationale, label: label, source: source)
    }

    /// One JSON line (no newline) with fields in the contract's order; `rationale` only when present.
    public static func encode(_ sample: Sample) -> String {
        var out: [UInt8] = []
        encode(sample, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends one JSON line (no newline) to `out`: the writer's allocation-light path.
    public static func encode(_ sample: Sample, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"policy":"#.utf8)
        appendJSONString(sample.policy, to: &out)
        out.append(contentsOf: #","prompt":"#.utf8)
        appendJSONString(sample.prompt, to: &out)
        if let rationale = sample.rationale {
            out.append(contentsOf: #","rationale":"#.utf8)
            appendJSONString(rationale, to: &out)
        }
        out.append(contentsOf: #","label":"#.utf8)
        appendJSONString(sample.label.rawValue, to: &out)
        out.append(contentsOf: #","source":"#.utf8)
        appendJSONString(sample.source, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// A JSON string literal; written by hand so output is byte-stable across platforms and versions.
    public static func jsonString(_ text: String) -> String {
        var out: [UInt8] = []
        appendJSONString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Escapes on UTF-8 bytes: quote, backslash, control characters, and U+2028/U+2029 (which some
    /// JavaScript JSON readers reject raw); everything else is copied as is.
    static func appendJSONString(_ text: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        var copy = text
        copy.withUTF8 { bytes in
            var i = 0
            while i < bytes.count {
                let byte = bytes[i]
                switch byte {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
                case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
                case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
                case 0..<0x20:
                    out.append(contentsOf: Array(#"\u00"#.utf8))
                    out.append(hex[Int(byte >> 4)]); out.append(hex[Int(byte & 15)])
                case 0xE2 where i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9):
                    out.append(contentsOf: Array(#"\u202"#.utf8))
                    out.append(bytes[i + 2] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                    i += 2
                default: out.append(byte)
                }
                i += 1
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func typeName(_ value: Any) -> String {
        switch value {
        case is String: return "a string"
        case is NSNull: return "null"
        case let number as NSNumber:
            // JSON booleans come back as NSNumber with the C `char` type on both Linux and Darwin.
            if String(cString: number.objCType) == "c" { return "a boolean (\(number.boolValue))" }
            return "a number (\(number))"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "\(type(of: value))"
        }
    }

    static func quoted(_ text: String) -> String {
        let short = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return "\"" + short + "\""
    }

    private static func jsonProblem(_ error: Error) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
        return text.trimmingCharacters(in: CharacterSet(charactersIn: ". "))
    }
}
