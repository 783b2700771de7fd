import Cluster
import Foundation
import Logging
import Runtime

/// The daemon's side of training runs: sends what slot threads queued on the bridge, and serves the checkpoint
/// files rank 0 offered when the coordinator asks for them by hash.
extension WorkerDaemon {

    /// Sends the bridge's queue (when registered; otherwise it waits, requests until their own timeout).
    func flushBridge() {
        bridgeReplies = bridgeReplies.filter { !$0.value.isSettled }
        let now = ContinuousClock.now
        offersSent = offersSent.filter { now - $0.value.at < .seconds(120) }
        let due = offerRetries.filter { $0.at <= now }
        if !due.isEmpty {
            offerRetries.removeAll { $0.at <= now }
            training.bridge.putBack(due.map(\.item))
        }
        let outgoing = training.bridge.takeOutgoing()
        guard !outgoing.isEmpty else { return }
        guard registered else {
            training.bridge.putBack(outgoing)
            return
        }
        var unsent: [CoordinatorBridge.Outgoing] = []
        for item in outgoing {
            guard let id = send(item.payload, jobID: item.jobID) else {
                unsent.append(item)
                continue
            }
            if let ticket = item.ticket { bridgeReplies[id] = ticket }
            if case .checkpointReady = item.payload { offersSent[id] = (item, .now) }
        }
        training.bridge.putBack(unsent)
    }

    /// An error answering a checkpoint offer: BUSY (an earlier checkpoint is still being received) offers it again
    /// shortly; anything else drops it (the next checkpoint is offered anyway). True when `replyTo` was an offer.
    func offerRefused(_ error: Uniguard_V1_Error, replyTo: UInt64) -> Bool {
        guard let sent = offersSent.removeValue(forKey: replyTo) else { return false }
        if error.code == .busy {
            offerRetries.append((.now + .milliseconds(300), sent.item))
            logger.debug("checkpoint offer deferred: \(error.message)")
        } else {
            logger.warning("checkpoint offer refused: \(error.code) \(error.message)")
        }
        return true
    }

    /// Bridged requests in flight will not be answered (the connection or the coordinator is gone): their
    /// threads learn it now and ask again.
    func failBridgedRequests(_ reason: String) {
        for ticket in bridgeReplies.values { ticket.fulfil(.failed(reason)) }
        bridgeReplies = [:]
    }

    /// A range of a checkpoint file this worker offered (BlobChunk + one raw frame), or BLOB_NOT_FOUND.
    func serveCheckpointFile(_ request: Uniguard_V1_BlobRequest, requestID: UInt64, jobID: String) {
        func notFound(_ why: String) {
            var error = Uniguard_V1_Error()
            error.code = .blobNotFound
            error.message = "worker \(settings.workerID): \(why)"
            send(.error(error), jobID: jobID, replyTo: requestID)
        }
        guard ModelBlobSet.isHexHash(request.contentHash), let path = training.offeredPath(request.contentHash) else {
            return notFound("blob \(request.contentHash.prefix(16)) is not a checkpoint file this worker offers")
        }
        guard let file = FileHandle(forReadingAtPath: path) else { return notFound("cannot read \(path)") }
        defer { try? file.close() }
        do {
            let total = try file.seekToEnd()
            guard request.offset <= total else { return notFound("offset \(request.offset) is past the \(total) bytes of the file") }
            // One chunk fits in a frame with room for the envelope.
            let limit = UInt64(max(1024, settings.limits.maxFrameBytes - 65536))
            let length = min(request.length, total - request.offset, limit)
            try file.seek(toOffset: request.offset)
            let bytes = try file.read(upToCount: Int(length)) ?? Data()
            var chunk = Uniguard_V1_BlobChunk()
            chunk.contentHash = request.contentHash
            chunk.offset = request.offset
            chunk.length = UInt64(bytes.count)
            chunk.totalSize = total
            guard let socket else { return }
            let message = WireMessage(.blobChunk(chunk), messageId: makeMessageID(), jobId: jobID, replyTo: requestID, rawFrames: [bytes])
            try socket.send(message, codec: codec, dontWait: true)
            heartbeat.sent(at: .now)
        } catch {
            logger.warning("cannot serve checkpoint file \(path): \(error)")
            notFound("cannot read \(path): \(error)")
        }
    }
}
