import Cluster
import Foundation
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Checkpoint files in the coordinator's state directory, content-addressed (`<dir>/<sha256>`): a file is
/// stored once, whatever checkpoints share it, and a name is only ever given to verified bytes.
struct CheckpointStore {
    let directory: String

    init(stateDirectory: String) {
        directory = (stateDirectory as NSString).appendingPathComponent("checkpoint-blobs")
    }

    func path(_ hash: String) -> String { (directory as NSString).appendingPathComponent(hash) }

    /// Whether a verified file with this hash and size is stored.
    func contains(_ file: ModelBlobSet.File) -> Bool {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path(file.hash))
        return (attributes?[.size] as? NSNumber)?.uint64Value == file.size
    }

    /// Deletes the stored files whose hash is not in `referenced` (files being received are not stored yet and stay);
    /// returns the hashes removed.
    func removeUnreferenced(keeping referenced: Set<String>) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed: [String] = []
        for name in names where name.count == 64 && name.allSatisfy(\.isHexDigit) && !referenced.contains(name) {
            if unlink(path(name)) == 0 { removed.append(name) }
        }
        return removed
    }

    /// A fresh temporary path for a file being received.
    func temporaryPath(_ hash: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return (directory as NSString).appendingPathComponent(".receiving-\(hash)-\(getpid())")
    }

    /// Moves a received, verified file into place (synced first, so a commit never names bytes a crash can lose).
    func publish(_ temporary: String, hash: String) throws {
        let fd = open(temporary, O_RDONLY)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
        guard rename(temporary, path(hash)) == 0 else {
            throw StoreError.cannotWrite(path: path(hash), reason: String(cString: strerror(errno)))
        }
        let dir = open(directory, O_RDONLY)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }
}

/// Pulling one checkpoint from rank 0, a chunk at a time: BlobRequest to the worker, BlobChunk + one raw frame back,
/// written to a temporary file and hashed as it arrives; a file whose SHA-256 differs is refused.
final class CheckpointFetch {
    /// Why a fetch stopped.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let taskID: String
    let workerID: String
    let step: Int
    let generation: Int
    /// Every file of the checkpoint, in name order.
    let files: [ModelBlobSet.File]
    /// Files still to receive (the store lacks them).
    private(set) var missing: [ModelBlobSet.File]
    private var handle: FileHandle?
    private var temporary: String?
    private var hasher = SHA256()
    private(set) var offset: UInt64 = 0
    /// The CheckpointReady's message id: a refusal answers it, so rank 0 stops waiting for the commit.
    var offerMessageID: UInt64 = 0
    /// The request in flight (its message id), for matching an error reply.
    var requestMessageID: UInt64 = 0
    var lastActivity = ContinuousClock.now
    private(set) var bytesReceived: UInt64 = 0

    init(taskID: String, workerID: String, step: Int, generation: Int, files: [ModelBlobSet.File], store: CheckpointStore) {
        self.taskID = taskID
        self.workerID = workerID
        self.step = step
        self.generation = generation
        self.files = files.sorted { $0.name < $1.name }
        // Each distinct missing content once (two files may share bytes).
        var seen = Set<String>()
        missing = self.files.filter { !store.contains($0) && seen.insert($0.hash).inserted }
    }

    deinit { abandon() }

    /// The file being received, if any.
    var currentFile: ModelBlobSet.File? { missing.first }

    /// The next request to send, or nil when every file is in the store.
    func nextRequest(chunkBytes: UInt64) -> Uniguard_V1_BlobRequest? {
        guard let file = currentFile else { return nil }
        var request = Uniguard_V1_BlobRequest()
        request.contentHash = file.hash
        request.offset = offset
        request.length = min(chunkBytes, file.size - offset)
        return request
    }

    /// Takes one chunk; returns true when the current file is complete and verified (moved into the store).
    func receive(_ chunk: Uniguard_V1_BlobChunk, raw: [Data], store: CheckpointStore) throws -> Bool {
        guard let file = currentFile, chunk.contentHash == file.hash else {
            throw Failure(description: "chunk of \(chunk.contentHash.prefix(16)) was not requested")
        }
        guard raw.count == 1, chunk.offset == offset, UInt64(raw[0].count) == chunk.length, chunk.length > 0,
              chunk.totalSize == file.size, offset + chunk.length <= file.size
        else {
            throw Failure(description: "chunk of \(file.name) at \(chunk.offset) (\(chunk.length) bytes, \(raw.count) frames, total \(chunk.totalSize)) does not match the request at \(offset) of \(file.size) bytes")
        }
        if handle == nil {
            let path = try store.temporaryPath(file.hash)
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            guard let h = FileHandle(forWritingAtPath: path) else { throw Failure(description: "cannot write \(path)") }
            handle = h
            temporary = path
            hasher = SHA256()
        }
        try handle!.write(contentsOf: raw[0])
        hasher.update(raw[0])
        offset += chunk.length
        bytesReceived += chunk.length
        lastActivity = .now
        guard offset == file.size else { return false }
        try handle?.close()
        handle = nil
        let digest = SHA256.hex(hasher.finalize())
        guard digest == file.hash, let temporary else {
            abandon()
            throw Failure(description: "\(file.name): received bytes hash to \(digest.prefix(16)), not \(file.hash.prefix(16)); checkpoint refused")
        }
        try store.publish(temporary, hash: file.hash)
        self.temporary = nil
        missing.removeFirst()
        offset = 0
        return true
    }

    /// Stores the current file if it is empty (nothing to request); true when it did.
    func completeEmptyFile(store: CheckpointStore) throws -> Bool {
        guard let file = currentFile, file.size == 0 else { return false }
        guard file.hash == SHA256.hex(SHA256.hash(Data())) else {
            throw Failure(description: "\(file.name): an empty file cannot have hash \(file.hash.prefix(16))")
        }
        let path = try store.temporaryPath(file.hash)
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        try store.publish(path, hash: file.hash)
        missing.removeFirst()
        return true
    }

    /// Drops a partly received file.
    func abandon() {
        try? handle?.close()
        handle = nil
        if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
        temporary = nil
    }
}
