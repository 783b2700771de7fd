import Foundation

/// Finds and runs the external programs the importers rely on (`unzip`, `pip`), with clear errors
/// when one is missing instead of a crash or a silent empty import.
public enum ExternalTool {
    /// Absolute path of `name` on `$PATH` (or the usual system directories), if present and executable.
    public static func locate(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let pathDirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in pathDirs + ["/usr/bin", "/bin", "/usr/local/bin"] where !dir.isEmpty {
            let candidate = (dir as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// `unzip`, or an error telling the user how to install it.
    public static func unzip() throws -> String {
        guard let path = locate("unzip") else {
            throw ImportError.toolMissing(tool: "unzip", hint: "install it (Debian/Ubuntu: apt-get install unzip; macOS ships it in /usr/bin)")
        }
        return path
    }

    /// A pip invocation: `pip3`, `pip`, or `python3 -m pip`, in that order.
    public static func pip() throws -> [String] {
        if let pip = locate("pip3") ?? locate("pip") { return [pip] }
        if let python = locate("python3") ?? locate("python") { return [python, "-m", "pip"] }
        throw ImportError.toolMissing(tool: "pip", hint: "install Python 3 with pip (Debian/Ubuntu: apt-get install python3-pip), or download the wheel yourself and pass --wheel")
    }

    /// Outcome of a finished process.
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: Data
        public let stderr: String
    }

    /// Runs `arguments[0]` with the rest as arguments and waits. Stdout is captured unless
    /// `passThrough`, in which case both streams go to this process's stderr (progress for the user).
    public static func run(_ arguments: [String], passThrough: Bool = false) throws -> Result {
        guard let executable = arguments.first else { throw ImportError.toolMissing(tool: "(empty command)", hint: "internal error") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        // stderr goes to a temp file: reading two pipes from one thread can deadlock when both fill.
        let errPath = NSTemporaryDirectory() + "uniguard-stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        guard let errHandle = FileHandle(forWritingAtPath: errPath) else {
            throw ImportError.toolFailed(command: arguments.joined(separator: " "), status: -1, output: "cannot create \(errPath)")
        }
        let outPipe = Pipe()
        if passThrough {
            process.standardOutput = FileHandle.standardError
            process.standardError = FileHandle.standardError
        } else {
            process.standardOutput = outPipe
            process.standardError = errHandle
        }
        do { try process.run() } catch {
            throw ImportError.toolFailed(command: arguments.joined(separator: " "), status: -1, output: "\(error.localizedDescription)")
        }
        let stdout = passThrough ? Data() : outPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? errHandle.close()
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// Runs and throws `toolFailed` on a non-zero exit.
    @discardableResult
    public static func check(_ arguments: [String], passThrough: Bool = false) throws -> Result {
        let result = try run(arguments, passThrough: passThrough)
        guard result.status == 0 else {
            throw ImportError.toolFailed(command: arguments.joined(separator: " "), status: result.status, output: result.stderr)
        }
        return result
    }
}
