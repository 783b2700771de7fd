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
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
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
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
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
        var out = "{\"policy\":" + jsonString(sample.policy) + ",\"prompt\":" + jsonString(sample.prompt)
        if let rationale = sample.rationale { out += ",\"rationale\":" + jsonString(rationale) }
        out += ",\"label\":" + jsonString(sample.label.rawValue) + ",\"source\":" + jsonString(sample.source) + "}"
        return out
    }

    /// A JSON string literal; written by hand so output is byte-stable across platforms and versions.
    public static func jsonString(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        return out
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
