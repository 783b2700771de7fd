import Cluster
import Foundation
import Fusion
import Logging
import Runtime

/// Settings of one worker process.
struct WorkerSettings: Sendable {
    var endpoint: String
    var workerID: String
    var slots: Int
    var cacheDirectory: String
    var curve: CurveKeyPair?
    var serverKey: CurveKey?
    /// Timing until the coordinator's RegisterAck supplies its own.
    var heartbeat: HeartbeatSettings
    var limits: WireLimits
    /// Chunk requests in flight per blob download.
    var downloadWindow = 4
    var blobChunkBytes: UInt64 = 1 << 20
}

/// The worker's event loop (Paranoid Pirate client): register, heartbeat, receive tasks, fetch blobs, run tasks
/// in slot threads, report results until the coordinator acknowledges them, reconnect with back-off.
final class WorkerDaemon {
    /// A task this worker accepted and has not yet seen acknowledged.
    struct HeldTask {
        enum Phase { case fetching, running, finished }
        var assignment: Uniguard_V1_TaskAssignment
        var jobID: String
        var phase: Phase
        var result: Uniguard_V1_TaskResult?
        var sentAt: ContinuousClock.Instant?
        var cancelled = false
    }

    /// An in-progress blob fetch.
    struct ActiveDownload {
        var plan: BlobDownload
        var file: FileHandle
        var lastProgress: ContinuousClock.Instant
    }

    let settings: WorkerSettings
    let logger: Logger
    let context: ZMQContext
    let codec: WireCodec
    let cache: BlobCache
    let wake: WakePipe
    let pool: SlotPool
    let stopRequested: Guarded<Bool>

    private var socket: ZMQSocket?
    private var heartbeat: Heartbeat
    private var registered = false
    private var session: String?
    private var reconnectAt: ContinuousClock.Instant?
    private var tasks: [String: HeldTask] = [:]
    private var downloads: [String: ActiveDownload] = [:]
    /// Blob request message id → hash, so a BLOB_NOT_FOUND reply can be matched.
    private var blobRequests: [UInt64: String] = [:]
    private var nextMessageID: UInt64 = 1

    init(settings: WorkerSettings, evaluators: ArmEvaluatorRegistry, logger: Logger, stopRequested: Guarded<Bool>) throws {
        self.settings = settings
        self.logger = logger
        self.stopRequested = stopRequested
        context = try ZMQContext()
        codec = WireCodec(limits: settings.limits)
        cache = try BlobCache(root: settings.cacheDirectory)
        wake = try WakePipe()
        let executor = TaskExecutor(cache: cache, evaluators: evaluators)
        pool = SlotPool(slots: settings.slots, wake: wake) { executor.run($0) }
        heartbeat = Heartbeat(settings: settings.heartbeat, now: .now)
    }

    func run() {
        connect()
        while !stopRequested.value {
            do {
                try turn()
            } catch let error as ZMQError where error.isTerminated {
                break
            } catch {
                logger.error("event loop: \(error)")
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        if let socket {
            var goodbye = Uniguard_V1_Disconnect()
            goodbye.reason = "worker shutting down"
            try? socket.set(.linger(milliseconds: 500))
            send(.disconnect(goodbye))
            socket.close()
        }
        logger.info("worker \(settings.workerID) stopped")
    }

    private func turn() throws {
        let now = ContinuousClock.now
        if socket == nil, let at = reconnectAt, now >= at { connect() }
        var poller = ZMQPoller()
        poller.add(fileDescriptor: wake.readFD)
        if let socket { poller.add(socket) }
        let timeout = socket == nil ? 50 : min(100, heartbeat.pollTimeoutMs(at: now))
        let events = try poller.poll(timeoutMs: timeout)
        if events[0].contains(.readable) { wake.drain() }
        if let socket, events.count > 1, events[1].contains(.readable) {
            for _ in 0..<1000 {
                guard let receipt = try socket.receiveWire(dontWait: true, codec: codec) else { break }
                handle(receipt)
                if self.socket == nil { break }
            }
        }
        collectResults()
        guard socket != nil else { return }
        resendStale()
        checkDownloads()
        let actions = heartbeat.tick(at: .now)
        if let delay = actions.peerDead {
            logger.warning("coordinator silent for \(heartbeat.settings.liveness) heartbeats; reconnecting in \(delay)")
            disconnect(reconnectAfter: delay)
        } else if actions.sendHeartbeat {
            if registered { sendHeartbeat() } else { sendRegister() }
        }
    }

    // MARK: Connection

    private func connect() {
        do {
            let socket = try context.socket(.dealer)
            try socket.set(.routingId(Data(settings.workerID.utf8)), .sendHighWaterMark(1000),
                           .receiveHighWaterMark(1000), .reconnectInterval(milliseconds: 200),
                           .reconnectIntervalMax(milliseconds: 2000))
            try socket.apply(settings.limits)
            if let keys = settings.curve, let server = settings.serverKey {
                try socket.enableCurveClient(keys: keys, serverKey: server)
            }
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
    private func disconnect(reconnectAfter delay: Duration) {
        socket?.close()
        socket = nil
        registered = false
        reconnectAt = .now + delay
    }

    private func makeMessageID() -> UInt64 {
        defer { nextMessageID &+= 1 }
        return nextMessageID
    }

    @discardableResult
    private func send(_ payload: WireEnvelope.OneOf_Payload, jobID: String = "", replyTo: UInt64 = 0) -> UInt64? {
        guard let socket else { return nil }
        let id = makeMessageID()
        do {
            try socket.send(WireMessage(payload, messageId: id, jobId: jobID, replyTo: replyTo), codec: codec, dontWait: true)
            heartbeat.sent(at: .now)
            return id
        } catch {
            logger.debug("cannot send to the coordinator now: \(error)")
            return nil
        }
    }

    private var heldTaskIDs: [String] { tasks.keys.sorted() }

    private func sendRegister() {
        var register = Uniguard_V1_RegisterWorker()
        register.workerID = settings.workerID
        register.slots = UInt32(settings.slots)
        register.memoryBytes = ProcessInfo.processInfo.physicalMemory
        register.softwareVersion = UniGuardVersion.number
        register.blasCore = BLASRuntime.coreName
        register.hostname = ProcessInfo.processInfo.hostName
        register.runningTaskIds = heldTaskIDs
        register.cachedBlobs = Array(cache.cachedHashes().prefix(1000))
        send(.registerWorker(register))
    }

    private func sendHeartbeat() {
        var beat = Uniguard_V1_Heartbeat()
        let running = tasks.values.filter { $0.phase != .finished }.count
        beat.freeSlots = UInt32(max(0, settings.slots - running))
        beat.runningTasks = UInt32(running)
        beat.load = Self.loadAverage()
        beat.sentAtUnixMs = UnixTime.nowMs()
        beat.runningTaskIds = heldTaskIDs
        beat.rssBytes = Self.residentBytes()
        send(.heartbeat(beat))
    }

    // MARK: Incoming

    private func handle(_ receipt: WireReceipt) {
        heartbeat.received(at: .now)
        guard case .success(let message) = receipt.result, let payload = message.payload else {
            if case .failure(let error) = receipt.result { logger.warning("rejected message from the coordinator: \(error)") }
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
            cancelTasks(job: cancel.jobID, reason: cancel.reason)
        case .error(let error):
            handleError(error, replyTo: message.envelope.replyTo)
        case .disconnect(let goodbye):
            logger.warning("coordinator said goodbye (\(goodbye.reason)); reconnecting")
            disconnect(reconnectAfter: heartbeat.settings.reconnectInitial)
        default:
            logger.warning("unexpected message from the coordinator: \(payload)")
        }
    }

    private func handleError(_ error: Uniguard_V1_Error, replyTo: UInt64) {
        switch error.code {
        case .unknownSender:
            // The coordinator restarted or expired us: register again on this connection.
            if registered { logger.info("coordinator does not know this worker any more; registering again") }
            registered = false
            sendRegister()
        case .blobNotFound:
            guard let hash = blobRequests.removeValue(forKey: replyTo) else { return }
            logger.error("coordinator cannot serve blob \(hash.prefix(16)): \(error.message)")
            abortDownload(hash, reason: error.message)
        default:
            logger.warning("coordinator error \(error.code): \(error.message)")
        }
    }

    // MARK: Tasks

    private func accept(_ assignment: Uniguard_V1_TaskAssignment, jobID: String) {
        // A repeat of a task we hold is a duplicate, unless ours is a finished earlier attempt (e.g. a failure
        // the coordinator retries here before our result's acknowledgement arrived).
        if let held = tasks[assignment.taskID] {
            guard held.phase == .finished, held.assignment.attempt != assignment.attempt else { return }
        }
        var held = HeldTask(assignment: assignment, jobID: jobID, phase: .fetching)
        let missing = missingBlobs(assignment)
        if missing.isEmpty {
            held.phase = .running
            tasks[assignment.taskID] = held
            pool.submit(assignment)
        } else {
            tasks[assignment.taskID] = held
            for (hash, size) in missing where downloads[hash] == nil { startDownload(hash, size: size) }
            requestBlobs()
        }
        logger.debug("accepted \(assignment.taskID) (attempt \(assignment.attempt), \(missing.count) blobs to fetch)")
    }

    /// Blobs (hash, size) a task still needs before it can run.
    private func missingBlobs(_ assignment: Uniguard_V1_TaskAssignment) -> [(String, UInt64)] {
        guard case .mergeArm(let task)? = assignment.kind else { return [] }
        var refs = task.models
        if task.hasBaseModel { refs.append(task.baseModel) }
        var out: [(String, UInt64)] = []
        for ref in refs {
            guard let set = try? ModelBlobSet(wire: ref) else { continue }
            out += cache.missing(set).map { ($0.hash, $0.size) }
        }
        let validation = task.validation
        let sharedOK = !validation.sharedPath.isEmpty
            && ((try? FileManager.default.attributesOfItem(atPath: validation.sharedPath))?[.size] as? NSNumber)?.uint64Value == task.validationSizeBytes
        if !sharedOK, ModelBlobSet.isHexHash(validation.corpusHash), !cache.has(validation.corpusHash) {
            out.append((validation.corpusHash, task.validationSizeBytes))
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0.0).inserted }
    }

    private func collectResults() {
        for result in pool.takeResults() {
            guard var held = tasks[result.taskID] else { continue }
            if held.cancelled {
                tasks[result.taskID] = nil
                continue
            }
            held.phase = .finished
            held.result = result
            held.sentAt = nil
            tasks[result.taskID] = held
            if case .error(let e)? = result.outcome { logger.warning("task \(result.taskID) failed: \(e.message)") }
        }
        resendStale()
    }

    /// Sends finished results that were never sent or not acknowledged for a while.
    private func resendStale() {
        guard registered else { return }
        let now = ContinuousClock.now
        let patience = heartbeat.settings.interval * 5
        for id in tasks.keys.sorted() {
            guard let held = tasks[id], held.phase == .finished, let result = held.result else { continue }
            if let sentAt = held.sentAt, now - sentAt < patience { continue }
            if send(.taskResult(result), jobID: held.jobID) != nil { tasks[id]?.sentAt = now }
        }
    }

    private func cancelTasks(job: String, reason: String) {
        var dropped = 0
        for (id, held) in tasks where held.jobID == job {
            switch held.phase {
            case .running: tasks[id]?.cancelled = true
            case .fetching, .finished: tasks[id] = nil
            }
            dropped += 1
        }
        if dropped > 0 { logger.info("job \(job) cancelled (\(reason)); dropped \(dropped) tasks") }
    }

    // MARK: Blobs

    private func startDownload(_ hash: String, size: UInt64) {
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
    private func requestBlobs() {
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

    private func received(_ chunk: Uniguard_V1_BlobChunk, bytes: Data) {
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

    private func finishDownload(_ hash: String) {
        do { try cache.commit(hash: hash) } catch {
            abortDownload(hash, reason: "\(error)")
            return
        }
        logger.debug("cached blob \(hash.prefix(16))")
        blobRequests = blobRequests.filter { $0.value != hash }
        for (id, held) in tasks where held.phase == .fetching && missingBlobs(held.assignment).isEmpty {
            tasks[id]?.phase = .running
            pool.submit(held.assignment)
        }
    }

    /// Gives up on a blob: the tasks waiting for it fail (the coordinator decides whether to retry them).
    private func abortDownload(_ hash: String, reason: String) {
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
    private func checkDownloads() {
        let now = ContinuousClock.now
        var stalled = false
        for hash in downloads.keys where now - downloads[hash]!.lastProgress > heartbeat.settings.expiry {
            downloads[hash]?.plan.resendOutstanding()
            downloads[hash]?.lastProgress = now
            stalled = true
        }
        if stalled { requestBlobs() }
    }

    // MARK: Host facts

    static func loadAverage() -> Float {
        var loads = [Double](repeating: 0, count: 3)
        return getloadavg(&loads, 1) == 1 ? Float(loads[0]) : 0
    }

    static func residentBytes() -> UInt64 {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = UInt64(fields[1]) else { return 0 }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
