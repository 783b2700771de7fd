import Cluster
import Foundation
import GuardData
import Runtime
import Training

/// The GIP corpus as a worker sees it: the coordinator's record index (fetched whole: 16 bytes per record), and
/// only the byte ranges of the records this rank trains on, fetched with BlobRequest(offset, length) on the corpus
/// hash and kept in a `RecordCache`. `prefetch` sends the next step's requests so they arrive while a step
/// computes. On a shared filesystem (the coordinator advertised a readable `shared_path` of the right size) the
/// records are read in place instead. Every record must decode (`CorpusCodec`); one that does not is an error
/// naming its row and byte range.
final class RemoteCorpus: CorpusRecordSource {
    let index: CorpusRangeIndex
    let sha256: String
    let corpusBytes: UInt64
    let cache: RecordCache
    private let bridge: CoordinatorBridge
    private let jobID: String
    private let shared: FileHandle?
    /// Requests in flight per row: the ticket and the range asked.
    private var pending: [Int: (ticket: BridgeTicket, range: Range<UInt64>)] = [:]
    /// How long one record fetch may take (a coordinator restart in between is retried until then).
    var fetchTimeout: Duration = .seconds(60)

    var count: Int { index.count }

    init(indexPath: String, corpusHash: String, corpusBytes: UInt64, sharedPath: String, cache: RecordCache,
         bridge: CoordinatorBridge, jobID: String) throws {
        index = try CorpusRangeIndex(path: indexPath)
        sha256 = corpusHash
        self.corpusBytes = corpusBytes
        self.cache = cache
        self.bridge = bridge
        self.jobID = jobID
        let size = ((try? FileManager.default.attributesOfItem(atPath: sharedPath))?[.size] as? NSNumber)?.uint64Value
        shared = !sharedPath.isEmpty && size == corpusBytes ? FileHandle(forReadingAtPath: sharedPath) : nil
        if let last = index.count > 0 ? index.range(index.count - 1) : nil, last.upperBound > corpusBytes {
            throw WorkerError("the corpus index ends at byte \(last.upperBound) but the corpus has \(corpusBytes) bytes; the coordinator's index is not this corpus's")
        }
    }

    deinit { try? shared?.close() }

    /// Whether records are read in place from a shared filesystem.
    var readsInPlace: Bool { shared != nil }

    func prefetch(_ rows: [Int]) {
        guard shared == nil else { return }
        for row in rows where (0..<count).contains(row) && pending[row] == nil && !cache.contains(row) { request(row) }
    }

    func records(_ rows: [Int]) throws -> [CorpusRecord] {
        for row in rows {
            guard (0..<count).contains(row) else { throw WorkerError("row \(row) is outside the corpus's \(count) records") }
        }
        prefetch(rows)
        return try rows.map { row in try decode(row, bytes: try recordBytes(row)) }
    }

    private func request(_ row: Int, from start: UInt64? = nil) {
        let range = index.range(row)
        let from = start ?? range.lowerBound
        var blob = Uniguard_V1_BlobRequest()
        blob.contentHash = sha256
        blob.offset = from
        blob.length = range.upperBound - from
        pending[row] = (bridge.request(.blobRequest(blob), jobID: jobID), from..<range.upperBound)
    }

    private func recordBytes(_ row: Int) throws -> [UInt8] {
        if let bytes = try cache.bytes(row) { return bytes }
        let range = index.range(row)
        if let shared {
            try shared.seek(toOffset: range.lowerBound)
            let data = try shared.read(upToCount: Int(range.count)) ?? Data()
            guard data.count == range.count else { throw WorkerError("the shared corpus file ends inside row \(row) (bytes \(range))") }
            return [UInt8](data)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(range.count))
        let deadline = ContinuousClock.now + fetchTimeout
        if pending[row] == nil { request(row) }
        while let (ticket, asked) = pending[row] {
            // A reply lost with a coordinator restart is asked for again after a short wait.
            guard let outcome = ticket.wait(timeout: max(min(deadline - .now, .seconds(5)), .milliseconds(1))) else {
                guard ContinuousClock.now < deadline else {
                    pending[row] = nil
                    throw WorkerError("corpus row \(row) (bytes \(range) of \(sha256.prefix(16))) did not arrive within \(fetchTimeout)")
                }
                request(row, from: asked.lowerBound)
                continue
            }
            switch outcome {
            case .failed(let reason):
                guard ContinuousClock.now < deadline else { pending[row] = nil; throw WorkerError("cannot fetch corpus row \(row): \(reason)") }
                Thread.sleep(forTimeInterval: 0.05)
                request(row, from: asked.lowerBound)
            case .reply(let message):
                switch message.payload {
                case .blobChunk(let chunk)?:
                    let data = message.rawFrames.first ?? Data()
                    guard chunk.contentHash == sha256, chunk.offset == asked.lowerBound, chunk.length == UInt64(data.count),
                          data.count > 0, UInt64(data.count) <= UInt64(asked.count), chunk.totalSize == corpusBytes else {
                        pending[row] = nil
                        throw WorkerError("the coordinator answered corpus row \(row) (bytes \(asked)) with a chunk at \(chunk.offset)+\(chunk.length) of \(chunk.totalSize) bytes; the corpus blob is not the one planned")
                    }
                    bytes.append(contentsOf: data)
                    if UInt64(data.count) < UInt64(asked.count) {
                        request(row, from: asked.lowerBound + UInt64(data.count))  // the coordinator's chunk limit: ask for the rest
                    } else {
                        pending[row] = nil
                    }
                case .error(let error)?:
                    pending[row] = nil
                    throw WorkerError("the coordinator cannot serve corpus \(sha256.prefix(16)) row \(row): \(error.code) \(error.message)")
                default:
                    pending[row] = nil
                    throw WorkerError("unexpected answer to a corpus range request: \(String(describing: message.payload))")
                }
            }
        }
        _ = try decode(row, bytes: bytes)  // only records that decode are cached
        try cache.store(row, bytes)
        return bytes
    }

    private func decode(_ row: Int, bytes: [UInt8]) throws -> CorpusRecord {
        do {
            return try CorpusCodec.decode(bytes[...], path: "corpus \(sha256.prefix(16)) record", line: row + 1)
        } catch {
            throw WorkerError("corpus row \(row) (bytes \(index.range(row)) of \(sha256.prefix(16))) does not decode: \(error); the corpus or its index on the coordinator is damaged, or the record cache \(cache.directory) is (delete it to refetch)")
        }
    }
}
