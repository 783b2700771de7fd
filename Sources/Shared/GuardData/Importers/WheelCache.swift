import Foundation

/// A pinned PyPI distribution whose wheel carries data we import (pinned so imports are reproducible).
public struct WheelSpec: Sendable, Hashable {
    /// Distribution name as on PyPI, e.g. `pyrit`.
    public let name: String
    /// Exact version, e.g. `1.1.0`.
    public let version: String

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }

    /// `name==version`, the pip requirement.
    public var requirement: String { "\(name)==\(version)" }

    /// Wheel file names start with the normalised name (`-`/`.` → `_`) and the version.
    var filePrefix: String {
        name.lowercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ".", with: "_") + "-" + version + "-"
    }
}

/// Where downloaded wheels live (`$UNIGUARD_HOME/downloads`, UNIGUARD_HOME defaulting to ~/.cache/uniguard)
/// and how a missing one is fetched: `pip download --no-deps`, never an install or import.
public enum WheelCache {
    /// `$UNIGUARD_HOME`, or `~/.cache/uniguard`.
    public static var home: String {
        if let env = ProcessInfo.processInfo.environment["UNIGUARD_HOME"], !env.isEmpty { return env }
        return NSHomeDirectory() + "/.cache/uniguard"
    }

    /// Default download directory.
    public static var defaultDirectory: String { home + "/downloads" }

    /// The cached wheel for `spec` in `directory`, if one is there.
    public static func cached(_ spec: WheelSpec, in directory: String) -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.lowercased().hasPrefix(spec.filePrefix.lowercased()) && $0.hasSuffix(".whl") }
            .sorted().first.map { (directory as NSString).appendingPathComponent($0) }
    }

    /// The wheel for `spec`, downloading it into `directory` first when absent. `log` receives progress lines.
    public static func ensure(_ spec: WheelSpec, in directory: String, log: (String) -> Void = { _ in }) throws -> String {
        if let found = cached(spec, in: directory) {
            log("using cached \(found)")
            return found
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let pip = try ExternalTool.pip()
        let command = pip + ["download", "--no-deps", "--only-binary=:all:", spec.requirement, "-d", directory]
        log("downloading \(spec.requirement): \(command.joined(separator: " "))")
        let result = try ExternalTool.run(command)
        guard result.status == 0 else {
            throw ImportError.toolFailed(command: command.joined(separator: " "), status: result.status,
                                         output: result.stderr + "\n(no network? download the wheel elsewhere and pass --wheel FILE)")
        }
        guard let found = cached(spec, in: directory) else {
            throw ImportError.layoutChanged(wheel: directory, detail: "pip finished but no \(spec.filePrefix)*.whl appeared")
        }
        return found
    }
}
