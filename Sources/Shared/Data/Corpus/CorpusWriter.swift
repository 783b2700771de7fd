import Foundation

/// Writes corpus records as JSONL through a buffer. The file appears atomically (temp file + rename) on
/// `close()`; a writer dropped without `close()` (the build failed) deletes its temp file, so a failed
/// run never leaves a half corpus that looks complete. Same contract as `SampleWriter`.
public final class CorpusWriter {
    /// Destination path (`-` writes to standard output).
    public let path: String
    /// Records written so far.
    public private(set) var count = 0

    private let tmpPath: String?
    private let handle: FileHandle
    private var pending: [UInt8] = []
    private var closed = false

    public init(path: String) throws {
        self.path = path
        if path == "-" {
            tmpPath = nil
            handle = FileHandle.standardOutput
            return
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let tmp = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: tmp, contents: nil), let opened = FileHandle(forWritingAtPath: tmp) else {
            throw SampleError(path: path, line: 0, field: nil, problem: "cannot create file (does the directory exist and is it writable?)")
        }
        tmpPath = tmp
        handle = opened
    }

    deinit {
        if !closed, let tmpPath {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: tmpPath)
        }
    }

    /// Appends one record line.
    public func write(_ record: CorpusRecord) throws {
        CorpusCodec.encode(record, into: &pending)
        pending.append(0x0A)
        count += 1
        if pending.count >= 1 << 20 { try flush() }
    }

    /// Flushes and publishes the file under its final name.
    public func close() throws {
        guard !closed else { return }
        try flush()
        closed = true
        guard let tmpPath else { return }
        try handle.close()
        guard rename(tmpPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: tmpPath)
            throw SampleError(path: path, line: 0, field: nil, problem: "cannot move finished file into place: \(reason)")
        }
    }

    private func flush() throws {
        guard !pending.isEmpty else { return }
        do { try handle.write(contentsOf: Data(pending)) } catch {
            throw SampleError(path: path, line: 0, field: nil, problem: "write failed: \(error.localizedDescription)")
        }
        pending.removeAll(keepingCapacity: true)
    }
}
