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
            handleRegister(register, from: peer, requestID: requestID)
        case .heartbeat(let beat):
            guard let member = knownWorker(peer, requestID: requestID) else { return }
            membership.report(member.id, load: beat.load, tasks: beat.runningTaskIds)
            // Grace: an assignment sent after the worker wrote this heartbeat is not lost, just in flight.
            reconcile(workerID: member.id, holding: Set(beat.runningTaskIds),
                      graceMs: UInt64(max(2000, 3 * config.heartbeatIntervalMs)))
        case .taskResult(let result):
            guard let member = knownWorker(peer, requestID: requestID) else { return }
            handleResult(result, from: member.id)
        case .blobRequest(let request):
            guard knownWorker(peer, requestID: requestID) != nil else { return }
            serveBlob(request, to: peer, requestID: requestID)
        case .disconnect(let goodbye):
            guard let member = membership.member(routingID: peer) else { return }
            logger.info("worker \(member.id) left: \(goodbye.reason)")
            workerGone(member, state: "left")
        case .error(let error):
            let who = membership.member(routingID: peer)?.id ?? Self.printable(peer)
            logger.warning("\(who) reported error \(error.code): \(error.message)")
        case .submitJob(let submit):
            submitJob(submit, from: peer, requestID: requestID)
        case .statusRequest(let request):
            answerStatus(request, to: peer, requestID: requestID)
        case .cancelJob(let cancel):
            cancelJob(cancel, from: peer, requestID: requestID)
        case .registerAck, .taskAssignment, .blobChunk, .submitReply, .statusReply, .cancelReply:
            rejectLog.warning("unexpected \(Self.kind(payload)) from \(Self.printable(peer))")
            sendError(.malformed, "the coordinator does not accept \(Self.kind(payload)) messages", to: peer,
                      replyTo: requestID)
        }
    }

    /// The registered worker behind `peer`, with its liveness refreshed; otherwise an UNKNOWN_SENDER reply
    /// (the worker registers again, e.g. after a coordinator restart).
    func knownWorker(_ peer: Data, requestID: UInt64) -> WorkerMember? {
        guard let member = membership.member(routingID: peer) else {
            sendError(.unknownSender, "not registered with this coordinator (session \(session)); register first",
                      to: peer, replyTo: requestID)
            return nil
        }
        membership.heard(member.id, at: .now, unixMs: UnixTime.nowMs())
        return member
    }

    func handleRegister(_ register: Uniguard_V1_RegisterWorker, from peer: Data, requestID: UInt64) {
        let now = UnixTime.nowMs()
        // A new connection for a known id replaces the old one (ROUTER handover).
        if let previous = membership.member(register.workerID), previous.routingID != peer {
            logger.info("worker \(register.workerID) reconnected from a new connection")
        }
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

        var ack = Uniguard_V1_RegisterAck()
        ack.workerID = member.id
        ack.heartbeatIntervalMs = UInt32(config.heartbeatIntervalMs)
        ack.liveness = UInt32(config.liveness)
        ack.maxFrameBytes = UInt64(config.maxFrameBytes)
        ack.coordinatorVersion = UniGuardVersion.description
        ack.coordinatorSession = session
        send(.registerAck(ack), to: peer, replyTo: requestID)
        logger.info("\(isNew ? "worker joined" : "worker re-registered"): \(member.id) (\(member.hostname), \(member.slots) slots, holding \(register.runningTaskIds.count) tasks)")
    }

    /// Aligns leases with what a worker says it holds: leases it no longer holds return to the queue (after
    /// `graceMs`, so an assignment still in flight is not mistaken for a lost one); tasks it holds under our
    /// lease get a fresh deadline.
    func reconcile(workerID: String, holding: Set<String>, graceMs: UInt64) {
        let now = UnixTime.nowMs()
        var changed: [TaskLease] = []
        for lease in leases.leased(by: workerID) {
            if holding.contains(lease.taskID) {
                leases.extend(lease.taskID, worker: workerID, deadlineUnixMs: max(lease.deadlineUnixMs, now + UInt64(config.leaseTimeoutMs)))
            } else if now >= lease.leasedAtUnixMs + graceMs, let requeued = leases.requeue(lease.taskID) {
                changed.append(requeued)
            }
        }
        // Tasks the worker holds that we had queued again (e.g. restored from the store): lease them back.
        for id in holding {
            guard let task = leases.task(id), task.state == .queued, jobs[task.jobID]?.state == .running else { continue }
            if let leased = leases.lease(id, to: workerID, nowUnixMs: now, timeoutMs: config.leaseTimeoutMs) {
                changed.append(leased)
            }
        }
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
