import Foundation

/// One completed arm in a search's history (one JSONL line).
public struct SearchRecord: Codable, Sendable, Equatable {
    /// 1-based position in completion order.
    public let iteration: Int
    public let arm: ArmID
    public let strategy: SearchStrategyKind
    public let method: MergeMethodKind
    public let weights: [Double]
    public let subset: ParameterSubset
    public let instruction: Int?
    public let parameters: [String: Double]
    public let f1: Double
    /// Wall time the evaluator reported for building and scoring the merged model.
    public let seconds: Double
    /// The success rule's verdict (F1 above the best known when the result arrived).
    public let success: Bool
    /// Best F1 so far, this result included.
    public let bestF1: Double
}

/// Reads and writes search histories as JSON Lines (one `SearchRecord` per line, keys sorted).
public enum SearchHistory {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static func line(_ record: SearchRecord) throws -> String {
        String(decoding: try encoder().encode(record), as: UTF8.self)
    }

    /// Writes the whole history (replacing the file).
    public static func write(_ records: [SearchRecord], to path: String) throws {
        let text = try records.map(line).joined(separator: "\n") + (records.isEmpty ? "" : "\n")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Appends one record (for a coordinator that logs results as they arrive).
    public static func append(_ record: SearchRecord, to path: String) throws {
        let data = Data((try line(record) + "\n").utf8)
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw SearchError.badState("cannot open history file \(path) for appending")
        }
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: data)
    }

    public static func read(_ path: String) throws -> [SearchRecord] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let d = JSONDecoder()
        var out: [SearchRecord] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            do { out.append(try d.decode(SearchRecord.self, from: Data(line.utf8))) } catch {
                throw SearchError.badState("\(path) line \(i + 1) is not a search record: \(error)")
            }
        }
        return out
    }

    /// Best F1 so far after each iteration (the convergence curve).
    public static func bestSoFar(_ records: [SearchRecord]) -> [Double] {
        var best = -Double.infinity
        return records.map { best = max(best, $0.f1); return best }
    }
}
