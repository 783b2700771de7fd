import Cluster
import Foundation
import Logging
import Runtime

/// Blob fetching: chunked downloads by content hash into the cache, stalls re-requested, failures fail the
/// tasks that waited for the blob.
extension WorkerDaemon {

    func startDownload(_ hash: String, size: UInt64) {
        let partial = cache.partialPath(hash)
        _ = FileManager.default.createFile(atPath: partial, contents: nil)
        guard let file = FileHandle(forWritingAtPath: partial) else {
            abortDownload(hash, reason: "cannot write \(partial)")
            return
        }
        if size == 0 {
            try? file.close()
            finishDownload(hash)
            return
        }
        downloads[hash] = ActiveDownload(plan: BlobDownload(hash: hash, size: size, chunkSize: settings.blobChunkBytes),
                                         file: file, lastProgress: .now)
    }

    /// Sends chunk requests up to each download's window.
    func requestBlobs() {
        guard registered else { return }
        for hash in downloads.keys.sorted() {
            guard var download = downloads[hash] else { continue }
            for (offset, length) in download.plan.nextRequests(window: settings.downloadWindow) {
                var request = Uniguard_V1_BlobRequest()
                request.contentHash = hash
                request.offset = offset
                request.length = length
                if let id = send(.blobRequest(request)) { blobRequests[id] = hash }
            }
            downloads[hash] = download
        }
    }

    func received(_ chunk: Uniguard_V1_BlobChunk, bytes: Data) {
        guard var download = downloads[chunk.contentHash] else { return }
        guard chunk.totalSize == download.plan.size, UInt64(bytes.count) == chunk.length,
              download.plan.received(offset: chunk.offset, length: chunk.length) else {
            return
        }
        do {
            try download.file.seek(toOffset: chunk.offset)
            try download.file.write(contentsOf: bytes)
        } catch {
            downloads[chunk.contentHash] = download
            abortDownload(chunk.contentHash, reason: "cannot write blob: \(error)")
            return
        }
        download.lastProgress = .now
        downloads[chunk.contentHash] = download
        if download.plan.isComplete {
            try? download.file.close()
            downloads[chunk.contentHash] = nil
            finishDownload(chunk.contentHash)
        } else {
            requestBlobs()
        }
    }

    func finishDownload(_ hash: String) {
        do { try cache.commit(hash: hash) } catch {
            abortDownload(hash, reason: "\(error)")
            return
        }
        logger.debug("cached blob \(hash.prefix(16))")
        blobRequests = blobRequests.filter { $0.value != hash }
        for (id, held) in tasks where held.phase == .fetching && missingBlobs(held.assignment).isEmpty {
            tasks[id]?.phase = .running
            pool.submit(held.assignment, jobID: held.jobID)
        }
    }

    /// Gives up on a blob: the tasks waiting for it fail (the coordinator decides whether to retry them).
    func abortDownload(_ hash: String, reason: String) {
        if let download = downloads.removeValue(forKey: hash) { try? download.file.close() }
        try? FileManager.default.removeItem(atPath: cache.partialPath(hash))
        blobRequests = blobRequests.filter { $0.value != hash }
        for (id, held) in tasks where held.phase == .fetching
            && missingBlobs(held.assignment).contains(where: { $0.0 == hash }) {
            var result = Uniguard_V1_TaskResult()
            result.taskID = id
            result.attempt = held.assignment.attempt
            var failure = Uniguard_V1_Error()
            failure.code = .blobNotFound
            failure.message = "cannot fetch blob \(hash.prefix(16)): \(reason)"
            result.error = failure
            tasks[id]?.phase = .finished
            tasks[id]?.result = result
            tasks[id]?.sentAt = nil
        }
        resendStale()
    }

    /// Downloads without progress for a liveness period ask again for what is outstanding.
    func checkDownloads() {
        let now = ContinuousClock.now
        var stalled = false
        for hash in downloads.keys where now - downloads[hash]!.lastProgress > heartbeat.settings.expiry {
            downloads[hash]?.plan.resendOutstanding()
            downloads[hash]?.lastProgress = now
            stalled = true
        }
        if stalled { requestBlobs() }
    }
}
