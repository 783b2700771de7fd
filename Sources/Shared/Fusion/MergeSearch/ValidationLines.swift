import Foundation
import GuardData
import Runtime

/// The validation samples arms are scored on, as JSONL sample lines numbered the same way by the local run,
/// the coordinator (which shards them) and every worker.
public enum ValidationLines {
    /// The sample lines of a JSONL file's bytes: non-blank lines, without "\r".
    public static func split(_ data: Data) -> [String] {
        // Split bytes, not Characters: "\r\n" is one grapheme, so a String split on "\n" would miss it.
        data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
            .map { String(decoding: $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0[...], as: UTF8.self) }
            .filter { !$0.allSatisfy(\.isWhitespace) }
    }

    /// The file's bytes (the coordinator hashes them) and its sample lines.
    public static func read(_ path: String) throws -> (data: Data, lines: [String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.missingFile(path: path, hint: "the validation samples (JSONL)")
        }
        return (data, split(data))
    }

    /// Prompts with their truth (unsafe = positive) of the samples of `policy`; `source` names the lines in errors.
    public static func items(_ lines: [String], policy: String, source: String) throws -> [(prompt: String, unsafe: Bool)] {
        var items: [(prompt: String, unsafe: Bool)] = []
        for (i, line) in lines.enumerated() {
            let sample = try SampleCodec.decode(Array(line.utf8)[...], path: source, line: i + 1)
            if sample.policy == policy { items.append((sample.prompt, sample.label == .unsafe)) }
        }
        return items
    }
}
