import Foundation
import Runtime

/// Splits a validation JSONL file into contiguous shards, each verifiable by its content hash.
///
/// Lines are `ValidationLines.split`'s (non-blank lines), so the coordinator and every worker number samples
/// identically.
public enum ValidationShards {
    /// One shard: a line range and the SHA-256 of exactly those lines, each followed by "\n".
    public struct Shard: Codable, Sendable, Equatable {
        public var index: Int
        public var firstLine: Int
        public var lineCount: Int
        public var hash: String
        /// Samples the job's evaluator scores in this shard (the classifier: the policy's lines only): a worker's
        /// counts must sum to exactly this. Nil in jobs prepared before it was recorded.
        public var scoredSamples: Int?
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
