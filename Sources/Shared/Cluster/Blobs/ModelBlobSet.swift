import Foundation
import Runtime

/// A model directory as content-addressed blobs: every file with its SHA-256, so workers fetch each once.
public struct ModelBlobSet: Codable, Sendable, Equatable {
    /// One file of the directory.
    public struct File: Codable, Sendable, Equatable {
        public var name: String
        public var hash: String
        public var size: UInt64
        public init(name: String, hash: String, size: UInt64) {
            self.name = name
            self.hash = hash
            self.size = size
        }
    }

    /// Directory name (informational).
    public var name: String
    /// Path on the coordinator's filesystem.
    public var path: String
    public var files: [File]

    public init(name: String, path: String, files: [File]) {
        self.name = name
        self.path = path
        self.files = files.sorted { $0.name < $1.name }
    }

    /// Hash of the weights file (the model's identity in DESIGN.md §4).
    public var weightsHash: String { files.first { $0.name == "model.safetensors" }?.hash ?? directoryHash }

    /// Hash over every file's name and hash: names the rebuilt directory in a worker's cache.
    public var directoryHash: String {
        SHA256.hex(SHA256.hash(files.map { "\($0.name) \($0.hash)\n" }.joined()))
    }

    public var totalBytes: UInt64 { files.reduce(0) { $0 + $1.size } }

    /// Hashes the regular files at the top of a model directory (subdirectories such as 1_Pooling are skipped:
    /// merges read only top-level files). `cache` maps "path|size|mtime" to a known hash to skip re-hashing.
    public static func describe(directory: String, knownHash: (String, UInt64, Int64) -> String? = { _, _, _ in nil })
        throws -> ModelBlobSet
    {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw JobSpecError(source: directory, key: "model", reason: "model directory not found")
        }
        var files: [File] = []
        for name in try fm.contentsOfDirectory(atPath: directory).sorted() where !name.hasPrefix(".") {
            let path = (directory as NSString).appendingPathComponent(name)
            let attributes = try fm.attributesOfItem(atPath: path)
            guard attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            let size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
            let mtime = Int64(((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0) * 1000)
            let hash = try knownHash(path, size, mtime) ?? SHA256.hexDigest(ofFile: path)
            files.append(File(name: name, hash: hash, size: size))
        }
        guard files.contains(where: { $0.name == "model.safetensors" }) else {
            throw JobSpecError(source: directory, key: "model", reason: "no model.safetensors in this directory")
        }
        return ModelBlobSet(name: (directory as NSString).lastPathComponent, path: directory, files: files)
    }

    /// The wire reference; `sharedPath` advertises the coordinator path for workers on a shared filesystem.
    public func wire(sharedPath: Bool) -> Uniguard_V1_ModelRef {
        var ref = Uniguard_V1_ModelRef()
        ref.contentHash = weightsHash
        ref.sizeBytes = totalBytes
        ref.name = name
        if sharedPath { ref.sharedPath = path }
        ref.files = files.map { f in
            var w = Uniguard_V1_ModelFile()
            w.name = f.name
            w.contentHash = f.hash
            w.sizeBytes = f.size
            return w
        }
        return ref
    }

    /// Rebuilds the description from a wire reference (worker side); file names are checked to be plain names.
    public init(wire ref: Uniguard_V1_ModelRef) throws {
        var files: [File] = []
        for f in ref.files {
            guard Self.isPlainFileName(f.name), Self.isHexHash(f.contentHash) else {
                throw JobSpecError(source: ref.name, key: "files", reason: "bad file entry '\(f.name)'")
            }
            files.append(File(name: f.name, hash: f.contentHash, size: f.sizeBytes))
        }
        if files.isEmpty, Self.isHexHash(ref.contentHash) {
            files = [File(name: "model.safetensors", hash: ref.contentHash, size: ref.sizeBytes)]
        }
        guard !files.isEmpty else { throw JobSpecError(source: ref.name, key: "files", reason: "model reference names no files") }
        self.init(name: ref.name, path: ref.sharedPath, files: files)
    }

    /// A file name a worker may create: no directory parts, not "." or "..".
    public static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0") && name.utf8.count <= 255
    }

    /// 64 lowercase hex digits (a SHA-256), so a hash can safely name a cache file.
    public static func isHexHash(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
