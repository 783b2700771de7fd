import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads and writes key files: '#' comment lines plus one line holding the Z85 key.
enum CurveKeyFile {
    /// The first line that is neither blank nor a comment; a czmq-style `key = "…"` line is also accepted.
    static func readKeyText(_ path: String) throws(CurveError) -> String {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .file(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let quoted = line.split(separator: "\"", omittingEmptySubsequences: false)
            return quoted.count >= 3 ? String(quoted[1]) : line
        }
        throw .file(path: path, reason: "no key found")
    }

    /// Writes via a temporary file created with `mode`, then renames, so no reader sees a partial key
    /// and a secret key is never briefly world-readable.
    static func store(_ text: String, to path: String, mode: mode_t) throws(CurveError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw .file(path: path, reason: "cannot create: \(errnoText())") }
        // fchmod because the umask may have narrowed (or a stale file widened) the requested mode.
        var ok = fchmod(fd, mode) == 0
        let bytes = Array(text.utf8)
        ok = ok && bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
        ok = (fsync(fd) == 0) && ok
        let reason = errnoText()
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw .file(path: path, reason: "cannot write: \(ok ? errnoText() : reason)")
        }
    }

    /// Throws if the file's permissions let group or others read it (like ssh does for private keys).
    static func checkPrivate(_ path: String) throws(CurveError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .file(path: path, reason: "cannot stat: \(errnoText())") }
        let mode = UInt32(info.st_mode) & 0o777
        if mode & 0o077 != 0 { throw .insecurePermissions(path: path, mode: mode) }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
