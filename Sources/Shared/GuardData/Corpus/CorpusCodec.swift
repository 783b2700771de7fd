import Foundation

/// Converts between one corpus JSONL line and a `CorpusRecord`; errors name file, line and field.
public enum CorpusCodec {
    /// Parses one line. `path` and `line` only label the error.
    public static func decode(_ bytes: ArraySlice<UInt8>, path: String, line: Int) throws -> CorpusRecord {
        func fail(_ field: String?, _ problem: String) -> SampleError { SampleError(path: path, line: line, field: field, problem: problem) }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            throw fail(nil, "not valid JSON; each corpus line is one object like {\"text\":\"Instruct: ... [SEP] Query: ...\",\"label\":\"safe\",...} (build one with `uniguard corpus build`)")
        }
        guard let fields = object as? [String: Any] else { throw fail(nil, "expected a JSON object, got \(SampleCodec.typeName(object))") }
        for key in fields.keys.sorted() where !CorpusRecord.fieldNames.contains(key) {
            throw fail(key, "unknown field; a corpus line has only \(CorpusRecord.fieldNames.joined(separator: ", "))")
        }
        func string(_ name: String) throws -> String {
            guard let value = fields[name] else { throw fail(name, "missing; every corpus line needs \"\(name)\"") }
            guard let text = value as? String else { throw fail(name, "expected a string, got \(SampleCodec.typeName(value))") }
            guard PromptText.hasContent(text) else { throw fail(name, "is empty") }
            return text
        }
        let text = try string("text")
        let labelText = try string("label")
        guard let label = SafetyLabel(rawValue: labelText) else {
            throw fail("label", "expected \"safe\" or \"unsafe\", got \(SampleCodec.quoted(labelText))")
        }
        let policy = try string("policy")
        let origin = fields["origin"] == nil ? policy : try string("origin")
        var phrasing = 0
        if let value = fields["phrasing"] {
            guard let n = value as? NSNumber, SampleCodec.typeName(value).hasPrefix("a number"), n.doubleValue == n.doubleValue.rounded(), n.intValue >= 0 else {
                throw fail("phrasing", "expected a non-negative integer, got \(SampleCodec.typeName(value))")
            }
            phrasing = n.intValue
        }
        let source = fields["source"] == nil ? "" : try string("source")
        return CorpusRecord(text: text, label: label, policy: policy, origin: origin, phrasing: phrasing, source: source)
    }

    /// Appends one JSON line (no newline) to `out`, fields in `CorpusRecord.fieldNames` order.
    public static func encode(_ record: CorpusRecord, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"text":"#.utf8)
        SampleCodec.appendJSONString(record.text, to: &out)
        out.append(contentsOf: #","label":"#.utf8)
        SampleCodec.appendJSONString(record.label.rawValue, to: &out)
        out.append(contentsOf: #","policy":"#.utf8)
        SampleCodec.appendJSONString(record.policy, to: &out)
        out.append(contentsOf: #","origin":"#.utf8)
        SampleCodec.appendJSONString(record.origin, to: &out)
        out.append(contentsOf: #","phrasing":"#.utf8)
        out.append(contentsOf: String(record.phrasing).utf8)
        out.append(contentsOf: #","source":"#.utf8)
        SampleCodec.appendJSONString(record.source, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// One JSON line (no newline).
    public static func encode(_ record: CorpusRecord) -> String {
        var out: [UInt8] = []
        encode(record, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
