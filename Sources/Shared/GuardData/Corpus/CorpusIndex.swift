import Foundation
import Runtime

/// Random access to a corpus JSONL file without loading it: the file is memory-mapped and only the byte
/// offsets of its valid lines are kept (20 bytes per record), so a million-record corpus costs ~20 MB.
/// Every line is decoded once when the index is built, so a bad line is reported before training starts.
public final class CorpusIndex: @unchecked Sendable {
    public let path: String
    /// SHA-256 of the whole file: a checkpoint records it so a resume on different data is refused.
    public let sha256: String
    /// Records per (policy, label), for the summary line.
    public let counts: [String: [SafetyLabel: Int]]
    /// Lines skipped as malformed (with `skipInvalid`).
    public let skipped: Int
    private let data: Data
    private let starts: [Int]
    private let ends: [Int]
    private let lines: [Int32]

    public var count: Int { starts.count }

    /// Indexes `path`. A malformed line is an error naming file:line:field unless `skipInvalid`.
    public init(path: String, skipInvalid: Bool = false) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw SampleError(path: path, line: 0, field: nil, problem: "no such file (build a corpus with `uniguard corpus build`)")
        }
        data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        var starts: [Int] = [], ends: [Int] = [], lines: [Int32] = []
        var counts: [String: [SafetyLabel: Int]] = [:]
        var skipped = 0
        var hasher = SHA256()
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            hasher.update(UnsafeBufferPointer(rebasing: bytes[...]))
            var lineStart = 0, lineNo = 0
            while lineStart < bytes.count {
                var end = lineStart
                while end < bytes.count && bytes[end] != 0x0A { end += 1 }
                lineNo += 1
                var stop = end
                if stop > lineStart && bytes[stop - 1] == 0x0D { stop -= 1 }
                let slice = ArraySlice(UnsafeBufferPointer(rebasing: bytes[lineStart..<stop]))
                if !slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    do {
                        let r = try CorpusCodec.decode(slice, path: path, line: lineNo)
                        starts.append(lineStart); ends.append(stop); lines.append(Int32(truncatingIfNeeded: lineNo))
                        counts[r.policy, default: [:]][r.label, default: 0] += 1
                    } catch where skipInvalid {
                        skipped += 1
                    }
                }
                lineStart = end + 1
            }
        }
        guard !starts.isEmpty else { throw SampleError(path: path, line: 0, field: nil, problem: "no corpus records") }
        self.starts = starts; self.ends = ends; self.lines = lines
        self.counts = counts; self.skipped = skipped
        sha256 = SHA256.hex(hasher.finalize())
    }

    /// The `i`-th valid record.
    public func record(_ i: Int) throws -> CorpusRecord {
        let s = starts[i], e = ends[i]
        return try data.withUnsafeBytes { raw in
            try CorpusCodec.decode(ArraySlice(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[s..<e])), path: path, line: Int(lines[i]))
        }
    }
}
