import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A synthesize job's output JSONL, derived from the store: every committed batch's lines are appended with one
/// write and synced after the store commit; at restore (or after a failed append) the file is checked against the
/// store and, when its length differs, replaced whole from it (`DurableFile`). So a kill at any moment loses no
/// committed batch and leaves no line twice, and nothing uncommitted is ever in the file after a restart.
final class SynthesisOutput {
    let path: String
    /// Bytes the file holds when it agrees with the store.
    private(set) var committedBytes: UInt64 = 0
    /// An append failed: the file must be rebuilt from the store before the next append.
    private(set) var needsRebuild = false

    init(path: String) { self.path = path }

    /// Makes the file hold exactly `lines` (the store's accepted samples in commit order). A file of the right
    /// length is kept: appends only ever add whole committed batches, so a matching length means matching content.
    func restore(lines: [String]) throws {
        let bytes = Self.encode(lines)
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value
        if size != UInt64(bytes.count) {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            try DurableFile.replace(path, with: bytes)
        }
        committedBytes = UInt64(bytes.count)
        needsRebuild = false
    }

    /// Appends one committed batch's lines with one write, then syncs. A failure leaves `needsRebuild` set.
    func append(lines: [String]) throws {
        guard !lines.isEmpty else { return }
        let bytes = Self.encode(lines)
        do {
            let fd = open(path, O_WRONLY | O_CREAT, 0o644)
            guard fd >= 0 else { throw StoreError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
            defer { close(fd) }
            // Past a torn earlier write, never after it: the file's committed length is known.
            guard ftruncate(fd, off_t(committedBytes)) == 0, lseek(fd, off_t(committedBytes), SEEK_SET) >= 0 else {
                throw StoreError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
            }
            try bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw StoreError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else { throw StoreError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
            committedBytes += UInt64(bytes.count)
        } catch {
            needsRebuild = true
            throw error
        }
    }

    static func encode(_ lines: [String]) -> Data {
        var data = Data()
        for line in lines {
            data.append(contentsOf: Array(line.utf8))
            data.append(0x0A)
        }
        return data
    }
}
