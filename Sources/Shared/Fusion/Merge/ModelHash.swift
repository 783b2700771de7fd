import Foundation
import Runtime

/// SHA-256 of input model files for merge provenance: the same `SHA256Blocks` compressor as `SHA256`, fed whole
/// blocks straight from a raw read buffer, because hashing three or four 90 MB checkpoints otherwise costs more
/// than the merge itself.
enum ModelHash {
    /// Reads with `read(2)` into one reused 4 MiB buffer rather than mapping the file: the merge already maps the
    /// inputs, and a second mapping would count every page twice in the process's resident size.
    static func sha256(ofFile path: String) throws -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw MergeError.badModel(path: path, reason: "cannot open for hashing: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let capacity = 4 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        defer { buffer.deallocate() }
        var h = SHA256Blocks()
        var total = 0, filled = 0
        while true {
            let got = read(fd, buffer + filled, capacity - filled)
            if got < 0 {
                if errno == EINTR { continue }
                throw MergeError.badModel(path: path, reason: "read failed while hashing: \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            filled += got
            total += got
            let whole = filled / 64 * 64
            h.compress(UnsafeRawPointer(buffer), blocks: whole / 64)
            // Keep the partial block at the front for the next read.
            if whole < filled { (buffer).copyMemory(from: buffer + whole, byteCount: filled - whole) }
            filled -= whole
        }
        return SHA256.hex(h.finish(tail: UnsafeRawBufferPointer(start: buffer, count: filled), total: total))
    }

    /// Hashes files on a background queue while the caller merges (two cores: the hash is then nearly free).
    final class Background: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [String: Result<String, Error>] = [:]
        private let group = DispatchGroup()

        init(paths: [String]) {
            for p in paths {
                DispatchQueue.global(qos: .utility).async(group: group) { [self] in
                    let r = Result { try ModelHash.sha256(ofFile: p) }
                    lock.lock(); results[p] = r; lock.unlock()
                }
            }
        }

        /// Waits for every hash; rethrows the first failure.
        func wait() throws -> [String: String] {
            group.wait()
            lock.lock(); defer { lock.unlock() }
            return try results.mapValues { try $0.get() }
        }
    }
}
