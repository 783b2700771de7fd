import Foundation
import Runtime

/// Splits a validation JSONL file into contiguous shards, each verifiable by its content hash.
///
/// Lines are the file's non-blank lines (a trailing newline or blank separator lines do not count), so the
/// coordinator and every worker number samples identically.
public enum ValidationShards {
    /// One shard: a line range and the SHA-256 of exactly those lines, each followed by "\n".
    public struct Shard: Codable, Sendable, Equatable {
        public var index: Int
        public var firstLine: Int
        public var lineCount: Int
        public var hash: String
    }

    /// The sample lines of a JSONL file's bytes.
    public static func lines(_ data: Data) -> [String] {
        // Split bytes, not Characters: "\r\n" is one grapheme, so a String split on "\n" would miss it.
        data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
            .map { String(decoding: $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0[...], as: UTF8.self) }
            .filter { !$0.allSatisfy(\.isWhitespace) }
    }

    /// Hash of a run of lines as the shard contract defines it.
    public static func hash(_ lines: ArraySlice<String>) -> String {
        var hasher = SHA256()
        for line in lines {
            hasher.update(line)
            hasher.update("\n")
        }
        return SHA256.hex(hasher.finalize())
    }

    /// `count` nearly equal contiguous shards (the first ones get the remainder); never an empty shard
    /// unless there are fewer lines than shards.
    public static func plan(lines: [String], count: Int) -> [Shard] {
        let n = max(1, min(count, max(lines.count, 1)))
        var out: [Shard] = []
        var start = 0
        for i in 0..<n {
            let size = lines.count / n + (i < lines.count % n ? 1 : 0)
            out.append(Shard(index: i, firstLine: start, lineCount: size, hash: hash(lines[start..<start + size])))
            start += size
        }
        return out
    }
}
