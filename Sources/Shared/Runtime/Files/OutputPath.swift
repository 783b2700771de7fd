import Foundation

/// Checks made on an output path before any work, so a long run cannot end in a write that was bound to fail
/// or that would destroy an input.
public enum OutputPath {
    /// `path` with symbolic links, `.` and `..` resolved, also when its last components do not exist yet.
    public static func resolved(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var existing = absolute, rest: [String] = []
        while !existing.isEmpty && existing != "/" && !FileManager.default.fileExists(atPath: existing) {
            rest.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
        }
        var base = existing.isEmpty ? "/" : existing
        if let real = realpath(base, nil) {
            base = String(cString: real)
            free(real)
        }
        return rest.reduce(base) { ($0 as NSString).appendingPathComponent($1) }
    }

    /// Refuses an output that is one of the inputs (compared as resolved real paths); `inputs` pairs each path
    /// with the option or role it came from, which the message names.
    public static func refuseInputs(_ output: String, _ inputs: [(role: String, path: String)]) throws {
        let out = resolved(output)
        for input in inputs where resolved(input.path) == out {
            throw OutputPathError(path: output, reason: "is also the input \(input.role) \(input.path); write the output elsewhere")
        }
    }

    /// Refuses an output file or directory whose parent cannot be created or written (rename needs the parent).
    public static func requireWritableParent(_ output: String) throws {
        var ancestor = (resolved(output) as NSString).deletingLastPathComponent
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        while !fm.fileExists(atPath: ancestor, isDirectory: &isDirectory) { ancestor = (ancestor as NSString).deletingLastPathComponent }
        guard isDirectory.boolValue else { throw OutputPathError(path: output, reason: "\(ancestor) is a file, not a directory") }
        guard access(ancestor, W_OK | X_OK) == 0 else {
            throw OutputPathError(path: output, reason: "cannot write in \(ancestor) (\(String(cString: strerror(errno))))")
        }
    }

    /// Checks a model directory output before a run: its parent is writable, and it is new, empty or already a model
    /// directory (which the run replaces as a whole), never a file or a directory of other things.
    public static func requireModelDirectory(_ output: String) throws {
        try requireWritableParent(output)
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: output, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw OutputPathError(path: output, reason: "exists and is a file; give a model directory path") }
        let names = ((try? fm.contentsOfDirectory(atPath: output)) ?? []).filter { !$0.hasPrefix(".") }
        guard names.isEmpty || !Set(names).isDisjoint(with: modelMarkers) else {
            throw OutputPathError(path: output, reason: "exists and is not a model directory (no config.json or uniguard.json); choose a new directory, it would be replaced")
        }
    }

    /// Entries that make an existing directory one of ours: a model, or a pretraining run's checkpoints.
    static let modelMarkers: Set<String> = ["config.json", "uniguard.json", "model.safetensors", "checkpoints"]
}
