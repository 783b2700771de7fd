import Foundation
import Runtime

/// A JSONL output file written through a buffer that appears atomically (temp file + rename) on `close()`;
/// dropped without `close()` (the producer failed part-way) it deletes its temp file, so a failed run never
/// leaves a truncated file that looks complete. `-` writes to standard output. `SampleWriter` and
/// `CorpusWriter` put their codecs on top.
public final class JSONLinesFile {
    /// Destination path.
    public let path: String
    /// Lines written so far.
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
        // Named and registered so an interrupt, or failing that the next write here, removes it (`TemporaryPaths`).
        TemporaryPaths.sweepStale(beside: path)
        let tmp = TemporaryPaths.path(for: path)
        guard FileManager.default.createFile(atPath: tmp, contents: nil), let opened = FileHandle(forWritingAtPath: tmp) else {
            try? FileManager.default.removeItem(atPath: tmp)
            throw SampleError(path: path, line: 0, field: nil, problem: "cannot create file (does the directory exist and is it writable?)")
        }
        TemporaryPaths.register(tmp)
        tmpPath = tmp
        handle = opened
    }

    deinit {
        if !closed, let tmpPath {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: tmpPath)
            TemporaryPaths.unregister(tmpPath)
        }
    }

    /// Appends one line: `encode` writes the JSON object (no newline) into the buffer.
    public func append(_ encode: (inout [UInt8]) -> Void) throws {
        encode(&pending)
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
        defer { TemporaryPaths.unregister(tmpPath) }
        // rename(2) replaces an existing file atomically: readers see the old file or the new one.
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
