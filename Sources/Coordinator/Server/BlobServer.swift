import Cluster
import Foundation

/// Serves content-addressed blobs (model files, validation data) to workers in chunks.
struct BlobServer {
    /// Why a chunk cannot be served (sent back as BLOB_NOT_FOUND).
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var files: [String: (path: String, size: UInt64)] = [:]

    mutating func register(_ blobs: [String: (path: String, size: UInt64)]) {
        files.merge(blobs) { _, new in new }
    }

    mutating func unregister(_ hashes: [String]) {
        for hash in hashes { files.removeValue(forKey: hash) }
    }

    /// Reads up to `length` bytes at `offset`; returns the bytes and the blob's total size.
    func read(hash: String, offset: UInt64, length: UInt64) -> Result<(Data, UInt64), Failure> {
        guard let file = files[hash] else { return .failure(Failure(description: "unknown blob \(hash.prefix(16))")) }
        guard offset < file.size else {
            return .failure(Failure(description: "offset \(offset) is past the end of blob \(hash.prefix(16)) (\(file.size) bytes)"))
        }
        guard let handle = FileHandle(forReadingAtPath: file.path) else {
            return .failure(Failure(description: "blob \(hash.prefix(16)) is no longer readable at \(file.path)"))
        }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: offset)
            let data = try handle.read(upToCount: Int(min(length, file.size - offset))) ?? Data()
            guard !data.isEmpty else { return .failure(Failure(description: "blob \(hash.prefix(16)) was truncated")) }
            return .success((data, file.size))
        } catch {
            return .failure(Failure(description: "cannot read blob \(hash.prefix(16)): \(error.localizedDescription)"))
        }
    }
}

/// Loads the CURVE public keys of allowed workers from files or directories of `*.key` files.
enum AllowedKeys {
    static func load(_ sources: [String]) throws -> Set<CurveKey> {
        var keys = Set<CurveKey>()
        for source in sources {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDir) else {
                throw CurveError.file(path: source, reason: "allowed worker key file or directory not found")
            }
            if isDir.boolValue {
                for name in try FileManager.default.contentsOfDirectory(atPath: source).sorted() where name.hasSuffix(".key") {
                    keys.insert(try CurveKey.load(publicKeyFile: (source as NSString).appendingPathComponent(name)))
                }
            } else {
                keys.insert(try CurveKey.load(publicKeyFile: source))
            }
        }
        return keys
    }
}
