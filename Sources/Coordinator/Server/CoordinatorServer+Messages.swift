import Cluster
import Foundation
import Runtime

/// Routing of incoming messages: decode failures, worker traffic, client requests.
extension CoordinatorServer {
    func handle(_ receipt: WireReceipt) {
        let message: WireMessage
        switch receipt.result {
        case .failure(let error):
            rejectLog.warning("rejected message from \(receipt.peer.map(Self.printable) ?? "unknown peer"): \(error)")
            if let peer = receipt.peer { sendError(error.errorCode, error.description, to: peer) }
            return
        case .success(let m):
            message = m
        }
        guard let peer = receipt.peer, let payload = message.payload else { return }
        let requestID = message.envelope.messageID
        switch payload {
        case .registerWorker(let register):
            handleRegister(register, from: peer, key: receipt.userId, requestID: requestID)
        case .heartbeat(let beat):
            guard let member = knownWorker(peer, key: receipt.userId, requestID: requestID) else { return }
            membership.report(member.id, load: beat.load, tasks: beat.runningTaskIds)
            // Grace: an assignment sent after the worker wrote this heartbeat is not lost, just in flight.
            reconcile(workerID: member.id, holding: Set(beat.runningTaskIds),
                      graceMs: UInt64(max(2000, 3 * config.heartbeatIntervalMs)))
            reconcileTraining(workerID: member.id, holding: Set(beat.runningTaskIds),
                              graceMs: UInt64(max(2000, 3 * config.heartbeatIntervalMs)))
        case .taskResult(let result):
            guard let member = knownWorker(peer, key: receipt.userId, requestID: requestID) else { return }
            if handleSynthesisResult(result, raw: message.rawFrames, from: member.id) { return }
            handleResult(result, from: member.id)
        case .blobRequest(let request):
            guard knownWorker(peer, key: receipt.userId, requestID: requestID) != nil else { return }
            serveBlob(request, to: peer, requestID: requestID)
        case .disconnect(let goodbye):
            // Under CURVE only the id's own key may say goodbye for it (a goodbye requeues its leases).
            guard let member = membership.member(routingID: peer), zap == nil || identity.matches(id: member.id, key: receipt.userId)
            else { return }
            logger.info("worker \(member.id) left: \(LogSafe.text(goodbye.reason))")
            workerGone(member, state: "left")
        case .error(let error):
            if let member = membership.member(routingID: peer),
               handleWorkerError(error, replyTo: message.envelope.replyTo, from: member.id) { return }
            let who = membership.member(routingID: peer)?.id ?? Self.printable(peer)
            logger.warning("\(who) reported error \(error.code): \(LogSafe.text(error.message))")
        case .submitJob(let submit):
            submitJob(submit, from: peer, requestID: requestID)
        case .statusRequest(let request):
            answerStatus(request, to: peer, requestID: requestID)
        case .cancelJob(let cancel):
            cancelJob(cancel, from: peer, requestID: requestID)
        case .keyValueRequest(let request):
            guard let member = knownWorker(peer, key: receipt.userId, requestID: requestID) else { return }
            handleKeyValue(request, from: member.id, peer: peer, requestID: requestID)
        case .trainProgress(let progress):
            guard let member = knownWorker(peer, key: receipt.userId, requestID: requestID) else { return }
            handleProgress(progress, from: member.id, peer: peer, requestID: requestID)
        case .checkpointReady(let ready):
            guard let member = knownWorker(peer, key: receipt.userId, requestID: requestID) else { return }
            handleCheckpointReady(ready, from: member.id, peer: peer, requestID: requestID)
        case .blobChunk(let chunk):
            guard let member = knownWorker(peer, key: receipt.userId, requestID: requestID) else { return }
            handleBlobChunk(chunk, raw: message.rawFrames, from: member.id)
        case .registerAck, .taskAssignment, .submitReply, .statusReply, .cancelReply, .keyValueReply, .checkpointCommitted:
            rejectLog.warning("unexpected \(Self.kind(payload)) from \(Self.printable(peer))")
            sendError(.malformed, "the coordinator does not accept \(Self.kind(payload)) messages", to: peer,
                      replyTo: requestID)
        }
    }

    /// The registered worker behind `peer`, with its liveness refreshed; otherwise an UNKNOWN_SENDER reply
    /// (the worker registers again, e.g. after a coordinator restart). Under CURVE the message must also carry the
    /// key the worker's id is bound to: a connection that took over the routing id with another key is refused.
    func knownWorker(_ peer: Data, key: String?, requestID: UInt64) -> WorkerMember? {
        guard let member = membership.member(routingID: peer) else {
            sendError(.unknownSender, "not registered with this coordinator (session \(session)); register first",
                      to: peer, replyTo: requestID)
            return nil
        }
        guard zap == nil || identity.matches(id: member.id, key: key) else {
            rejectLog.warning("message for worker \(member.id) from another CURVE key (\(LogSafe.text(key ?? "none"))); refused")
            sendError(.unauthorized, "worker id '\(member.id)' belongs to another CURVE key", to: peer, replyTo: requestID)
            return nil
        }
        membership.heard(member.id, at: .now, unixMs: UnixTime.nowMs())
        return member
    }

    func handleRegister(_ register: Uniguard_V1_RegisterWorker, from peer: Data, key: String?, requestID: UInt64) {
        let now = UnixTime.nowMs()
        guard admit(register, from: peer, key: key, requestID: requestID) else { return }
        var member = WorkerMember(id: register.workerID, routingID: peer, hostname: register.hostname,
                                  slots: Int(min(register.slots, 1024)), softwareVersion: register.softwareVersion,
                                  blasCore: register.blasCore,
                                  heartbeat: Heartbeat(settings: config.heartbeatSettings, now: .now), nowUnixMs: now)
        member.reportedTasks = register.runningTaskIds
        member.cachedBlobs = Set(register.cachedBlobs)
        let isNew = membership.join(member)
        do { try store.upsertWorker(membership.member(member.id) ?? member, state: "alive") } catch {
            storeFailed(error, "worker registration")
        }
        reconcile(workerID: member.id, holding: Set(register.runningTaskIds), graceMs: 0)
        reconcileTraining(workerID: member.id, holding: Set(register.runningTaskIds), graceMs: 0)

        var ack = Uniguard_V1_RegisterAck()
        ack.workerID = member.id
        ack.heartbeatIntervalMs = UInt32(config.heartbeatIntervalMs)
        ack.liveness = UInt32(config.liveness)
        ack.maxFrameBytes = UInt64(config.maxFrameBytes)
        ack.coordinatorVersion = UniGuardVersion.description
        ack.coordinatorSession = session
        send(.registerAck(ack), to: peer, replyTo: requestID)
        logger.info("\(isNew ? "worker joined" : "worker re-registered"): \(member.id) (\(LogSafe.text(member.hostname, limit: 100)), \(member.slots) slots, holding \(register.runningTaskIds.count) tasks)")
    }

    /// Refuses a registration whose id is live on another connection or, under CURVE, bound to another key
    /// (nothing of the live worker changes: its membership and leases stay); binds a new id to its key.
    private func admit(_ register: Uniguard_V1_RegisterWorker, from peer: Data, key: String?, requestID: UInt64) -> Bool {
        // Ids become log text and status fields: printable characters only, so none can forge a log line.
        guard register.workerID.count <= 200, LogSafe.text(register.workerID) == register.workerID else {
            rejectLog.warning("refused registration from \(Self.printable(peer)): worker id \(LogSafe.text(register.workerID, limit: 80)) has control characters or is too long")
            sendError(.unauthorized, "a worker id must be printable and at most 200 characters", to: peer, replyTo: requestID)
            return false
        }
        do {
            if try identity.admit(id: register.workerID, routingID: peer, key: zap == nil ? nil : key, members: membership) {
                do { try identityFile.save(identity) } catch {
                    logger.error("cannot persist the CURVE key of worker \(register.workerID) to \(identityFile.path): \(error)")
                }
            }
            return true
        } catch {
            rejectLog.warning("refused registration of worker \(register.workerID) from \(Self.printable(peer)): \(error)")
            sendError(.unauthorized, error.description, to: peer, replyTo: requestID)
            return false
        }
    }

    /// Aligns leases with what a worker says it holds: leases it no longer holds return to the queue (after
    /// `graceMs`, so an assignment still in flight is not mistaken for a lost one); tasks it holds under our
    /// lease keep the deadline of their grant (restored if a restart shortened it; never renewed).
    func reconcile(workerID: String, holding: Set<String>, graceMs: UInt64) {
        let now = UnixTime.nowMs()
        var changed: [TaskLease] = []
        for lease in leases.leased(by: workerID) {
            if holding.contains(lease.taskID) {
                leases.confirm(lease.taskID, worker: workerID, timeoutMs: config.leaseTimeoutMs)
            } else if now >= lease.leasedAtUnixMs + graceMs, let requeued = leases.requeue(lease.taskID) {
                changed.append(requeued)
            }
        }
        // Tasks it holds that went back to the queue stay there: a worker's word never leases it a task (any
        // worker could name any task id), and its result for the old attempt will not count.
        guard !changed.isEmpty else { return }
        do { try store.transaction { for lease in changed { try store.updateLease(lease) } } } catch {
            storeFailed(error, "lease reconciliation")
        }
        let requeued = changed.filter { $0.state == .queued }.count
        if requeued > 0 { logger.info("worker \(workerID) does not hold \(requeued) leased tasks; requeued them") }
    }

    func serveBlob(_ request: Uniguard_V1_BlobRequest, to peer: Data, requestID: UInt64) {
        let limit = UInt64(min(config.blobChunkBytes, config.maxFrameBytes))
        switch blobs.read(hash: request.contentHash, offset: request.offset, length: min(request.length, limit)) {
        case .success(let (bytes, total)):
            var chunk = Uniguard_V1_BlobChunk()
            chunk.contentHash = request.contentHash
            chunk.offset = request.offset
            chunk.length = UInt64(bytes.count)
            chunk.totalSize = total
            send(.blobChunk(chunk), to: peer, replyTo: requestID, rawFrames: [bytes])
        case .failure(let error):
            sendError(.blobNotFound, error.description, to: peer, replyTo: requestID)
        }
    }
}
