import Foundation

/// Writes a directory as a whole: `build` fills a temporary directory beside the target, which then takes the
/// target's place by rename. An existing target is moved aside only once the new directory is complete, so a
/// failure or an interrupt at any point leaves either the old directory or the new one, never a mix.
public enum AtomicDirectory {
    /// Builds `target` through a temporary directory. `carryingOver` names entries of an existing target that
    /// the new one keeps (e.g. a pretraining run's `checkpoints/`) unless `build` wrote its own.
    public static func write(_ target: URL, carryingOver: [String] = [], _ build: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let path = target.standardizedFileURL.path
        TemporaryPaths.sweepStale(beside: path)
        let tmp = TemporaryPaths.path(for: path)
        TemporaryPaths.register(tmp)
        defer {
            try? fm.removeItem(atPath: tmp)
            TemporaryPaths.unregister(tmp)
        }
        try? fm.removeItem(atPath: tmp)
        try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        try build(URL(fileURLWithPath: tmp))
        try publish(tmp, as: path, carryingOver: carryingOver)
    }

    /// Puts the finished `tmp` in `path`'s place; the old directory is removed once nothing can fail.
    static func publish(_ tmp: String, as path: String, carryingOver: [String]) throws {
        let fm = FileManager.default
        let old = TemporaryPaths.path(for: path, suffix: "old")
        try TemporaryPaths.critical {
            var isDirectory: ObjCBool = false
            let exists = fm.fileExists(atPath: path, isDirectory: &isDirectory)
            if exists {
                guard isDirectory.boolValue else { throw OutputPathError(path: path, reason: "exists and is a file; give a directory path") }
                for name in carryingOver {
                    let from = (path as NSString).appendingPathComponent(name), to = (tmp as NSString).appendingPathComponent(name)
                    if fm.fileExists(atPath: from) && !fm.fileExists(atPath: to) { try move(from, to) }
                }
                TemporaryPaths.register(old)
                try move(path, old)
            }
            do { try move(tmp, path) } catch {
                if exists { try? move(old, path) }
                throw error
            }
        }
        if fm.fileExists(atPath: old) {
            try? fm.removeItem(atPath: old)
            TemporaryPaths.unregister(old)
        }
    }

    static func move(_ from: String, _ to: String) throws {
        guard rename(from, to) == 0 else {
            throw OutputPathError(path: to, reason: "cannot move \(from) into place: \(String(cString: strerror(errno)))")
        }
    }
}
