import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small files that must survive a crash whole: written beside the target, synced, renamed over it, and the
/// directory synced, so after a crash (even of the OS) the path holds the old contents or the new, never a mix.
enum DurableFile {
    static func replace(_ path: String, with data: Data) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw StoreError.cannotWrite(path: path, reason: "cannot create \(temporary): \(errnoText())") }
        var ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return false }
                offset += written
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        let reason = errnoText()
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            let failure = ok ? errnoText() : reason
            unlink(temporary)
            throw StoreError.cannotWrite(path: path, reason: failure)
        }
        // The rename is durable once the directory entry is on disk.
        let directory = open((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent, O_RDONLY)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
