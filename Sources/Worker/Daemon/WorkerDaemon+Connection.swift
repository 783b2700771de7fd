import Cluster
import Foundation
import Logging
import Runtime

/// Connection and liveness: the DEALER socket, registration, heartbeats both ways, back-off, and the dispatch
/// of what the coordinator sends.
extension WorkerDaemon {

    func connect() {
        do {
            let socket = try context.socket(.dealer)
            try socket.set(.routingId(Data(settings.workerID.utf8)), .sendHighWaterMark(1000),
                           .receiveHighWaterMark(1000), .reconnectInterval(milliseconds: 200),
                           .reconnectIntervalMax(milliseconds: 2000))
            try socket.apply(settings.limits)
            if let keys = settings.curve, let server = settings.serverKey {
                try socket.enableCurveClient(keys: keys, serverKey: server)
            }
            // Also without CURVE: a plain-text worker against a CURVE coordinator learns the mechanisms differ.
            monitor = try ZMQHandshakeMonitor(socket)
            try socket.connect(settings.endpoint)
            self.socket = socket
            reconnectAt = nil
            registered = false
            for key in downloads.keys { downloads[key]?.plan.resendOutstanding() }
            heartbeat = Heartbeat(settings: heartbeat.settings, now: .now)
            sendRegister()
        } catch {
            logger.error("cannot connect to \(settings.endpoint): \(error)")
            reconnectAt = .now + heartbeat.settings.reconnectInitial
        }
    }

    /// Drops the connection; a fresh socket is made after `delay` (Paranoid Pirate back-off).
    func disconnect(reconnectAfter delay: Duration) {
        failBridgedRequests("connection to the coordinator lost")
        socket?.close()
        socket = nil
        monitor?.close()
        monitor = nil
        registered = false
        reconnectAt = .now + delay
    }

    /// Logs a refused or failed security handshake once (until one succeeds), so the reason is not "silence".
    func checkHandshake() {
        guard let monitor else { return }
        for event in (try? monitor.drain()) ?? [] {
            if event == .succeeded {
                handshakeProblem = nil
            } else if event.detail > handshakeProblem?.detail ?? -1 {
                // libzmq retries every reconnect interval: say it once, or again only when we learn more.
                handshakeProblem = event
                logger.error("\(event.explanation); retrying")
            }
        }
    }

    func makeMessageID() -> UInt64 {
        defer { nextMessageID &+= 1 }
        return nextMessageID
    }

    @discardableResult
    func send(_ payload: WireEnvelope.OneOf_Payload, jobID: String = "", replyTo: UInt64 = 0, rawFrames: [Data] = []) -> UInt64? {
        guard let socket else { return nil }
        let id = makeMessageID()
        do {
            try socket.send(WireMessage(payload, messageId: id, jobId: jobID, replyTo: replyTo, rawFrames: rawFrames), codec: codec, dontWait: true)
            heartbeat.sent(at: .now)
            return id
        } catch {
            logger.debug("cannot send to the coordinator now: \(error)")
            return nil
        }
    }

    var heldTaskIDs: [String] { tasks.keys.sorted() }

    func sendRegister() {
        var register = Uniguard_V1_RegisterWorker()
        register.workerID = settings.workerID
        register.slots = UInt32(settings.slots)
        register.memoryBytes = ProcessInfo.processInfo.physicalMemory
        register.softwareVersion = UniGuardVersion.number
        register.blasCore = BLASRuntime.coreName
        register.hostname = ProcessInfo.processInfo.hostName
        register.runningTaskIds = heldTaskIDs
        register.peerEndpoint = settings.dataAddress
        register.cachedBlobs = Array(cache.cachedHashes().prefix(1000))
        send(.registerWorker(register))
    }

    func sendHeartbeat() {
        var beat = Uniguard_V1_Heartbeat()
        let running = tasks.values.filter { $0.phase != .finished }.count
        beat.freeSlots = UInt32(max(0, settings.slots - running))
        beat.runningTasks = UInt32(running)
        beat.load = HostFacts.loadAverage()
        beat.sentAtUnixMs = UnixTime.nowMs()
        beat.runningTaskIds = heldTaskIDs
        beat.rssBytes = HostFacts.residentBytes()
        send(.heartbeat(beat))
    }

    // MARK: Incoming

    func handle(_ receipt: WireReceipt) {
        heartbeat.received(at: .now)
        guard case .success(let message) = receipt.result, let payload = message.payload else {
            if case .failure(let error) = receipt.result { logger.warning("rejected message from the coordinator: \(error)") }
            return
        }
        // Answers to what a training run asked (key/values, corpus ranges) go back to its thread.
        if message.envelope.replyTo != 0, let ticket = bridgeReplies.removeValue(forKey: message.envelope.replyTo) {
            ticket.fulfil(.reply(message))
            return
        }
        switch payload {
        case .registerAck(let ack):
            registered = true
            if ack.heartbeatIntervalMs > 0 {
                heartbeat = Heartbeat(settings: HeartbeatSettings(
                    interval: .milliseconds(Int(ack.heartbeatIntervalMs)), liveness: Int(max(ack.liveness, 1)),
                    reconnectInitial: settings.heartbeat.reconnectInitial, reconnectMax: settings.heartbeat.reconnectMax),
                    now: .now)
            }
            if session != ack.coordinatorSession {
                // A restarted coordinator never answers what its predecessor was asked.
                failBridgedRequests("the coordinator restarted")
                logger.info("registered with coordinator \(settings.endpoint) (session \(ack.coordinatorSession)), holding \(tasks.count) tasks")
                session = ack.coordinatorSession
            }
            // Results the coordinator may not have: send them again (it acknowledges duplicates too).
            for id in tasks.keys where tasks[id]?.phase == .finished { tasks[id]?.sentAt = nil }
            resendStale()
            requestBlobs()
        case .heartbeat(let beat):
            for id in beat.acknowledgedTaskIds where tasks[id]?.phase == .finished { tasks[id] = nil }
        case .taskAssignment(let assignment):
            accept(assignment, jobID: message.envelope.jobID)
        case .blobChunk(let chunk):
            received(chunk, bytes: message.rawFrames.first ?? Data())
        case .cancelJob(let cancel):
            cancelTasks(job: cancel.jobID, reason: cancel.reason, taskIDs: cancel.taskIds)
        case .blobRequest(let request):
            serveCheckpointFile(request, requestID: message.envelope.messageID, jobID: message.envelope.jobID)
        case .checkpointCommitted(let committed):
            let removed = training.committed(jobID: message.envelope.jobID, step: committed.step)
            logger.info("checkpoint \(committed.step) of \(message.envelope.jobID) committed; deleted \(removed) older local checkpoints")
        case .error(let error):
            handleError(error, replyTo: message.envelope.replyTo)
        case .disconnect(let goodbye):
            logger.warning("coordinator said goodbye (\(goodbye.reason)); reconnecting")
            disconnect(reconnectAfter: heartbeat.settings.reconnectInitial)
        default:
            logger.warning("unexpected message from the coordinator: \(payload)")
        }
    }

    func handleError(_ error: Uniguard_V1_Error, replyTo: UInt64) {
        switch error.code {
        case .unknownSender:
            // The coordinator restarted or expired us: register again on this connection.
            if registered { logger.info("coordinator does not know this worker any more; registering again") }
            registered = false
            sendRegister()
        case .unauthorized where !registered:
            // Refused for good (id live elsewhere, or bound to another key): retrying cannot help.
            refusal = error.message
            logger.critical("the coordinator refused this worker: \(error.message)")
            stopRequested.value = true
        case .blobNotFound:
            guard let hash = blobRequests.removeValue(forKey: replyTo) else { return }
            logger.error("coordinator cannot serve blob \(hash.prefix(16)): \(error.message)")
            abortDownload(hash, reason: error.message)
        default:
            if offerRefused(error, replyTo: replyTo) { return }
            logger.warning("coordinator error \(error.code): \(error.message)")
        }
    }
}
