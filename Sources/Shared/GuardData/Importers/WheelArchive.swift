import Foundation

/// Read access to a Python wheel (a zip file) through the system `unzip`, without importing or
/// installing the package. Entries needed in bulk are extracted once into a temporary directory,
/// which is ~10x faster than one `unzip -p` per file for the hundreds of templates in PyRIT.
public final class WheelArchive {
    /// Path of the `.whl` file.
    public let path: String
    private let unzip: String
    private var extractedRoot: String?

    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw ImportError.wheelMissing(path: path) }
        self.path = path
        unzip = try ExternalTool.unzip()
    }

    deinit {
        if let extractedRoot { try? FileManager.default.removeItem(atPath: extractedRoot) }
    }

    /// All entry names (files and directories) in archive order.
    public func entries() throws -> [String] {
        let result = try ExternalTool.check([unzip, "-Z1", path])
        return String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// The bytes of one entry.
    public func read(_ entry: String) throws -> Data {
        if let root = try extractedRootIfAny(), let data = FileManager.default.contents(atPath: root + "/" + entry) {
            return data
        }
        return try ExternalTool.check([unzip, "-p", path, escape(entry)]).stdout
    }

    /// The entry as UTF-8 text.
    public func text(_ entry: String) throws -> String {
        let data = try read(entry)
        guard let text = String(data: data, encoding: .utf8) else {
            throw ImportError.badEntry(wheel: path, entry: entry, problem: "not UTF-8 text")
        }
        return text
    }

    /// Extracts every entry under the given prefixes (e.g. `pyrit/datasets/`) so `read` is a file read.
    public func extract(prefixes: [String]) throws {
        let root = NSTemporaryDirectory() + "uniguard-wheel-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        extractedRoot = root
        let patterns = prefixes.map { escape($0) + "*" }
        let result = try ExternalTool.run([unzip, "-q", "-o", path] + patterns + ["-d", root])
        // unzip exits 11 when a pattern matched nothing: fine, the importer reports missing parts itself.
        guard result.status == 0 || result.status == 11 else {
            throw ImportError.toolFailed(command: "unzip -q -o \(path) … -d \(root)", status: result.status, output: result.stderr)
        }
    }

    private func extractedRootIfAny() throws -> String? { extractedRoot }

    // unzip treats [ ] * ? as wildcards in entry names; escape them so names match literally.
    private func escape(_ name: String) -> String {
        var out = ""
        for ch in name {
            if "[]*?".contains(ch) { out += "[" + String(ch) + "]" } else { out.append(ch) }
        }
        return out
    }
}

extension WheelArchive {
    /// The entry decompressed with the system `gzip -dc` (for `*.jsonl.gz` data files).
    public func gunzipped(_ entry: String) throws -> Data {
        let data = try read(entry)
        guard let gzip = ExternalTool.locate("gzip") else {
            throw ImportError.toolMissing(tool: "gzip", hint: "install it (Debian/Ubuntu: apt-get install gzip)")
        }
        let temp = NSTemporaryDirectory() + "uniguard-gz-\(UUID().uuidString).gz"
        guard FileManager.default.createFile(atPath: temp, contents: data) else {
            throw ImportError.badEntry(wheel: path, entry: entry, problem: "cannot write a temporary copy to \(temp)")
        }
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let result = try ExternalTool.run([gzip, "-dc", temp])
        guard result.status == 0 else {
            throw ImportError.badEntry(wheel: path, entry: entry, problem: "not a gzip file (\(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))")
        }
        return result.stdout
    }

    /// The entry read as JSON lines: one object per non-empty line; a bad line names its number.
    public func jsonLines(_ data: Data, entry: String) throws -> [[String: Any]] {
        var out: [[String: Any]] = []
        for (index, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            guard line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                throw ImportError.badEntry(wheel: path, entry: entry, problem: "line \(index + 1) is not a JSON object")
            }
            out.append(object)
        }
        return out
    }
}
