import Foundation

/// The temporary files and directories this process is writing before it renames them into place.
/// Each is named `<target>.tmp-<pid>[-suffix]` beside its target (so the final rename stays on one filesystem);
/// it is removed on failure by its writer, on SIGINT/SIGTERM by `InterruptCleanup`, and, when the process died
/// anyway (SIGKILL, power loss), by the next run that writes the same target (`sweepStale`).
public enum TemporaryPaths {
    /// What marks a temporary name; the process id follows it.
    public static let marker = ".tmp-"

    /// `target`'s temporary name for this process, with an optional `suffix` for a second one (e.g. `old`).
    public static func path(for target: String, suffix: String = "") -> String {
        target + marker + "\(getpid())" + (suffix.isEmpty ? "" : "-" + suffix)
    }

    /// Remembers `path` until `unregister`, so an interrupt removes it.
    public static func register(_ path: String) { registry.mutate { _ = $0.insert(path) } }

    public static func unregister(_ path: String) { registry.mutate { _ = $0.remove(path) } }

    /// Runs `body` while no interrupt cleanup can run: a rename pair (old target aside, new one in) is never cut
    /// in half by Ctrl-C. Reentrant, so `body` may register and unregister paths.
    public static func critical<R>(_ body: () throws -> R) rethrows -> R { try registry.locked(body) }

    /// Removes every registered path; the interrupt handler calls this and then ends the process.
    public static func removeAll() {
        registry.mutate { paths in
            for p in paths { try? FileManager.default.removeItem(atPath: p) }
            paths.removeAll()
        }
    }

    /// Removes temporaries of `target` (files or directories) left by processes that no longer run.
    public static func sweepStale(beside target: String) {
        let fm = FileManager.default
        let directory = (target as NSString).deletingLastPathComponent
        let prefix = (target as NSString).lastPathComponent + marker
        guard let names = try? fm.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix(while: \.isNumber)), !isRunning(pid) else { continue }
            try? fm.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
        }
    }

    /// Whether a process with this id exists (EPERM: it does, under another user).
    static func isRunning(_ pid: Int32) -> Bool {
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    private static let registry = Registry()

    /// The set of live paths behind a recursive lock (the interrupt handler runs on another thread).
    private final class Registry: @unchecked Sendable {
        // @unchecked: `paths` is only touched with `lock` held.
        private let lock = NSRecursiveLock()
        private var paths: Set<String> = []

        func locked<R>(_ body: () throws -> R) rethrows -> R {
            lock.lock()
            defer { lock.unlock() }
            return try body()
        }

        /// The set itself; `body` must not call back into the registry (one exclusive access at a time).
        func mutate(_ body: (inout Set<String>) -> Void) { locked { body(&paths) } }
    }
}
