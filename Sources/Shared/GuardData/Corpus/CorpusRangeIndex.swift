import Foundation
import Runtime

/// A corpus file's valid records as byte ranges, kept in a file rather than in memory: one little-endian
/// (start u64, end u64) pair per record, in file order. The coordinator builds it once per corpus (streaming, so a
/// million-record corpus costs a fixed buffer, not its size) and serves it to workers as a blob; a worker reads a
/// record by fetching just its range of the corpus.
public struct CorpusRangeIndex: Sendable {
    /// Bytes per record in the index file.
    public static let entryBytes = 16

    /// What building an index found out about the corpus.
    public struct Summary: Sendable, Equatable {
        public var records: Int
        /// SHA-256 of the whole corpus file and of the index file.
        public var corpusSHA256: String
        public var indexSHA256: String
        public var corpusBytes: UInt64
        public var indexBytes: UInt64
        /// Records per (policy, label).
        public var counts: [String: [SafetyLabel: Int]]
    }

    /// Indexes `corpus` into `index` (written atomically). Every non-blank line must decode as a corpus record:
    /// the first that does not is an error naming file:line:field.
    public static func build(corpus: String, index: String, bufferBytes: Int = 4 << 20) throws -> Summary {
        guard let input = FileHandle(forReadingAtPath: corpus) else {
            throw SampleError(path: corpus, line: 0, field: nil, problem: "cannot open (build a corpus with `uniguard corpus build`)")
        }
        defer { try? input.close() }
        let tmp = index + ".partial-\(getpid())"
        FileManager.default.createFile(atPath: tmp, contents: nil)
        guard let output = FileHandle(forWritingAtPath: tmp) else {
            throw SampleError(path: index, line: 0, field: nil, problem: "cannot write the corpus index here")
        }
        var committed = false
        defer {
            try? output.close()
            if !committed { try? FileManager.default.removeItem(atPath: tmp) }
        }
        var corpusHash = SHA256(), indexHash = SHA256()
        var counts: [String: [SafetyLabel: Int]] = [:]
        var records = 0, lineNo = 0
        var offset: UInt64 = 0           // file offset of `pending`'s first byte
        var pending: [UInt8] = []        // bytes of an unfinished line carried into the next read
        var entries = [UInt8](), indexBytes: UInt64 = 0
        entries.reserveCapacity(64 << 10)

        func flushEntries() throws {
            guard !entries.isEmpty else { return }
            indexHash.update(entries)
            try output.write(contentsOf: entries)
            indexBytes += UInt64(entries.count)
            entries.removeAll(keepingCapacity: true)
        }
        func line(_ bytes: ArraySlice<UInt8>, start: UInt64) throws {
            lineNo += 1
            var stop = bytes.endIndex
            if stop > bytes.startIndex && bytes[stop - 1] == 0x0D { stop -= 1 }
            let body = bytes[bytes.startIndex..<stop]
            guard !body.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { return }
            let record = try CorpusCodec.decode(body, path: corpus, line: lineNo)
            counts[record.policy, default: [:]][record.label, default: 0] += 1
            records += 1
            withUnsafeBytes(of: start.littleEndian) { entries.append(contentsOf: $0) }
            withUnsafeBytes(of: (start + UInt64(body.count)).littleEndian) { entries.append(contentsOf: $0) }
            if entries.count >= 64 << 10 { try flushEntries() }
        }

        while true {
            guard let chunk = try input.read(upToCount: bufferBytes), !chunk.isEmpty else { break }
            corpusHash.update(chunk)
            pending.append(contentsOf: chunk)
            var lineStart = 0
            while let nl = pending[lineStart...].firstIndex(of: 0x0A) {
                try line(pending[lineStart..<nl], start: offset + UInt64(lineStart))
                lineStart = nl + 1
            }
            offset += UInt64(lineStart)
            pending.removeFirst(lineStart)
        }
        if !pending.isEmpty { try line(pending[...], start: offset) }
        try flushEntries()
        guard records > 0 else { throw SampleError(path: corpus, line: 0, field: nil, problem: "no corpus records") }
        try output.synchronize()
        try output.close()
        guard rename(tmp, index) == 0 else {
            throw SampleError(path: index, line: 0, field: nil, problem: "cannot move the finished index into place: \(String(cString: strerror(errno)))")
        }
        committed = true
        return Summary(records: records, corpusSHA256: SHA256.hex(corpusHash.finalize()), indexSHA256: SHA256.hex(indexHash.finalize()),
                       corpusBytes: offset + UInt64(pending.count), indexBytes: indexBytes, counts: counts)
    }

    /// The index file, memory-mapped (the kernel pages it in and out; nothing is copied).
    public let path: String
    private let data: Data

    /// Opens an index file; its size must be a whole number of entries.
    public init(path: String) throws {
        self.path = path
        data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        guard data.count % Self.entryBytes == 0, !data.isEmpty else {
            throw SampleError(path: path, line: 0, field: nil, problem: "\(data.count) bytes is not a corpus index (\(Self.entryBytes) bytes per record); rebuild it")
        }
    }

    /// Number of records.
    public var count: Int { data.count / Self.entryBytes }

    /// Byte range of record `i` in the corpus file (without its newline).
    public func range(_ i: Int) -> Range<UInt64> {
        precondition(i >= 0 && i < count, "record \(i) of \(count)")
        return data.withUnsafeBytes { raw in
            let start = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * Self.entryBytes, as: UInt64.self))
            let end = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * Self.entryBytes + 8, as: UInt64.self))
            return start..<max(start, end)
        }
    }
}
