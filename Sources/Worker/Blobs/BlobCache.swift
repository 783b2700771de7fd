import Cluster
import Fusion
import Foundation
import Runtime

/// The worker's content-addressed cache: `blobs/<sha256>` files, partial downloads in `tmp/`, and model
/// directories rebuilt from blobs as symlinks in `models/<directory hash>/`. Safe to share between slot threads.
final class BlobCache: Sendable {
    let root: String

    init(root: String) throws {
        // Absolute, because model directories are symlinks into blobs/ and must resolve from anywhere.
        self.root = URL(fileURLWithPath: root).standardizedFileURL.path
        for sub in ["blobs", "tmp", "models"] {
            try FileManager.default.createDirectory(atPath: (root as NSString).appendingPathComponent(sub),
                                                    withIntermediateDirectories: true)
        }
    }

    func path(_ hash: String) -> String { "\(root)/blobs/\(hash)" }
    func partialPath(_ hash: String) -> String { "\(root)/tmp/\(hash).part" }

    func has(_ hash: String) -> Bool { ModelBlobSet.isHexHash(hash) && FileManager.default.fileExists(atPath: path(hash)) }

    /// Hashes present, for registration (lets a scheduler prefer warm workers).
    func cachedHashes() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(root)/blobs")) ?? []).filter(ModelBlobSet.isHexHash).sorted()
    }

    /// Verifies a finished download against its hash and moves it into the cache.
    func commit(hash: String) throws {
        let partial = partialPath(hash)
        let actual = try SHA256.hexDigest(ofFile: partial)
        guard actual == hash else {
            try? FileManager.default.removeItem(atPath: partial)
            throw WorkerError("blob \(hash.prefix(16)) arrived corrupted (got \(actual.prefix(16))); it will be fetched again")
        }
        guard rename(partial, path(hash)) == 0 else { throw WorkerError("cannot move blob into \(path(hash))") }
    }

    /// A coordinator path on a shared filesystem, when every file is there with the expected size.
    static func usableSharedDirectory(_ set: ModelBlobSet) -> String? {
        guard !set.path.isEmpty else { return nil }
        for file in set.files {
            let attributes = try? FileManager.default.attributesOfItem(atPath: (set.path as NSString).appendingPathComponent(file.name))
            guard (attributes?[.size] as? NSNumber)?.uint64Value == file.size else { return nil }
        }
        return set.path
    }

    /// Blob hashes a model still needs (none when a shared path is usable).
    func missing(_ set: ModelBlobSet) -> [ModelBlobSet.File] {
        if Self.usableSharedDirectory(set) != nil { return [] }
        return set.files.filter { !has($0.hash) }
    }

    /// A model directory for the merge: the shared path, or a directory of symlinks into the blob cache.
    func materialize(_ set: ModelBlobSet) throws -> String {
        if let shared = Self.usableSharedDirectory(set) { return shared }
        let dir = "\(root)/models/\(set.directoryHash)"
        if FileManager.default.fileExists(atPath: "\(dir)/model.safetensors") { return dir }
        for file in set.files where !has(file.hash) { throw WorkerError("blob \(file.name) (\(file.hash.prefix(16))) is not cached") }
        // Build under a unique name and rename, so concurrent slots never see a half-built directory.
        let temporary = "\(root)/tmp/model-\(set.directoryHash)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        for file in set.files {
            try FileManager.default.createSymbolicLink(atPath: "\(temporary)/\(file.name)", withDestinationPath: path(file.hash))
        }
        if rename(temporary, dir) != 0 { try? FileManager.default.removeItem(atPath: temporary) }
        return dir
    }

    /// The lines of one validation shard, verified against the shard hash.
    func validationLines(_ range: Uniguard_V1_ShardRange, size: UInt64) throws -> [String] {
        var file = path(range.corpusHash)
        if !range.sharedPath.isEmpty,
           ((try? FileManager.default.attributesOfItem(atPath: range.sharedPath))?[.size] as? NSNumber)?.uint64Value == size {
            file = range.sharedPath
        }
        guard let data = FileManager.default.contents(atPath: file) else { throw WorkerError("validation data \(range.corpusHash.prefix(16)) is not cached") }
        let lines = ValidationLines.split(data)
        let first = Int(clamping: range.firstLine), count = Int(clamping: range.lineCount)
        guard first >= 0, count >= 0, first <= lines.count, count <= lines.count - first else {
            throw WorkerError("shard lines \(first)+\(count) exceed the \(lines.count) lines of the validation data")
        }
        let slice = lines[first..<first + count]
        guard ValidationShards.hash(slice) == range.shardHash else {
            throw WorkerError("validation shard hash mismatch: the data differs from what the coordinator planned")
        }
        return Array(slice)
    }
}

/// A worker-side failure, reported to the coordinator as a task error.
struct WorkerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
