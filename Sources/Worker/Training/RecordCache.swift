import Foundation
import Runtime

/// Corpus records a worker fetched by byte range, kept on disk under the blob cache per corpus hash, so a later
/// generation (or a restarted worker) does not fetch them again: `records.bin` holds record bytes appended as they
/// arrive, `map.bin` one little-endian (row u64, offset u64, length u64) entry per record. Entries are appended
/// after their bytes, so a crash mid-write leaves at worst an unreferenced tail; entries pointing past the bytes
/// file, and a torn last entry, are ignored on open. Thread-safe (a lock), shared by the slots of one worker.
final class RecordCache: @unchecked Sendable {
    // @unchecked: all mutable state is touched under `lock`.
    let directory: String
    private let lock = NSLock()
    private var locations: [Int: (offset: UInt64, length: UInt64)] = [:]
    private let records: FileHandle
    private let map: FileHandle
    private var recordsEnd: UInt64

    static let entryBytes = 24

    init(directory: String) throws {
        self.directory = directory
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let recordsPath = "\(directory)/records.bin", mapPath = "\(directory)/map.bin"
        for path in [recordsPath, mapPath] where !fm.fileExists(atPath: path) { fm.createFile(atPath: path, contents: nil) }
        guard let records = FileHandle(forUpdatingAtPath: recordsPath), let map = FileHandle(forUpdatingAtPath: mapPath) else {
            throw WorkerError("cannot open the record cache in \(directory) for writing")
        }
        self.records = records
        self.map = map
        recordsEnd = try records.seekToEnd()
        let entries = try map.readToEnd() ?? Data()
        let whole = entries.count / Self.entryBytes * Self.entryBytes
        entries.withUnsafeBytes { raw in
            for at in stride(from: 0, to: whole, by: Self.entryBytes) {
                let row = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))
                let offset = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self))
                let length = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 16, as: UInt64.self))
                guard offset <= recordsEnd, length <= recordsEnd - offset, row <= UInt64(Int.max) else { continue }
                locations[Int(row)] = (offset, length)
            }
        }
        // Drop a torn last entry so new ones stay aligned.
        try map.truncate(atOffset: UInt64(whole))
        try map.seekToEnd()
    }

    deinit {
        try? records.close()
        try? map.close()
    }

    var count: Int { lock.withLock { locations.count } }

    /// Bytes of record bytes stored (what this worker fetched of the corpus, over all its runs).
    var storedBytes: UInt64 { lock.withLock { recordsEnd } }

    func contains(_ row: Int) -> Bool { lock.withLock { locations[row] != nil } }

    /// The stored bytes of `row`, or nil.
    func bytes(_ row: Int) throws -> [UInt8]? {
        try lock.withLock {
            guard let at = locations[row] else { return nil }
            try records.seek(toOffset: at.offset)
            let data = try records.read(upToCount: Int(at.length)) ?? Data()
            guard data.count == Int(at.length) else { throw WorkerError("record cache \(directory) is truncated at row \(row); delete it to refetch") }
            return [UInt8](data)
        }
    }

    /// Appends `row`'s bytes (a row stored already is left as it is).
    func store(_ row: Int, _ bytes: [UInt8]) throws {
        try lock.withLock {
            guard locations[row] == nil else { return }
            try records.seek(toOffset: recordsEnd)
            try records.write(contentsOf: bytes)
            var entry = [UInt8]()
            entry.reserveCapacity(Self.entryBytes)
            for value in [UInt64(row), recordsEnd, UInt64(bytes.count)] { withUnsafeBytes(of: value.littleEndian) { entry.append(contentsOf: $0) } }
            try map.write(contentsOf: entry)
            locations[row] = (recordsEnd, UInt64(bytes.count))
            recordsEnd += UInt64(bytes.count)
        }
    }
}
