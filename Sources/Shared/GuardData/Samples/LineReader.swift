import Foundation

/// Reads a file line by line through a fixed-size buffer, so million-line corpora stream in flat memory.
/// Lines end at `\n`; a trailing `\r` is dropped so CRLF files read the same.
public final class LineReader {
    /// The path being read (`-` means standard input).
    public let path: String
    /// 1-based number of the line most recently returned; 0 before the first.
    public private(set) var lineNumber = 0

    private let handle: FileHandle
    private let ownsHandle: Bool
    private let chunkSize: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEOF = false

    /// Opens `path` (`-` reads standard input).
    public init(path: String, chunkSize: Int = 1 << 16) throws {
        self.path = path
        self.chunkSize = max(chunkSize, 16)
        if path == "-" {
            handle = FileHandle.standardInput
            ownsHandle = false
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw SampleError(path: path, line: 0, field: nil, problem: "no such file")
            }
            guard !isDirectory.boolValue, let opened = FileHandle(forReadingAtPath: path) else {
                throw SampleError(path: path, line: 0, field: nil, problem: isDirectory.boolValue ? "is a directory, expected a JSONL file" : "cannot open for reading (check permissions)")
            }
            handle = opened
            ownsHandle = true
        }
    }

    deinit { if ownsHandle { try? handle.close() } }

    /// The next line's bytes without the terminator, or nil at end of file.
    public func nextLine() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                var end = newline
                if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[start..<end]
                start = newline + 1
                lineNumber += 1
                return line
            }
            if atEOF {
                guard start < buffer.count else { return nil }
                var end = buffer.count
                if buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[start..<end]
                start = buffer.count
                lineNumber += 1
                return line
            }
            try refill()
        }
    }

    private func refill() throws {
        // Drop consumed bytes before growing, so the buffer stays about one chunk plus the longest line.
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let chunk: Data?
        do { chunk = try handle.read(upToCount: chunkSize) } catch {
            throw SampleError(path: path, line: lineNumber + 1, field: nil, problem: "read failed: \(error.localizedDescription)")
        }
        guard let chunk, !chunk.isEmpty else { atEOF = true; return }
        buffer.append(contentsOf: chunk)
    }
}
