import Cluster
import Foundation
import Logging
import Runtime

/// The coordinator's event loop: one thread owns the ROUTER socket, the store and all in-memory state.
///
/// Each turn: wait for traffic (bounded by the next heartbeat or lease deadline), handle every waiting message,
/// then expire dead workers and leases, hand out work to free slots, and send heartbeats. Every state change
/// is committed to SQLite before anything depending on it leaves the process.
final class CoordinatorServer {
    let config: ClusterConfig
    let logger: Logger
    let store: JobStore
    let context: ZMQContext
    let codec: WireCodec
    /// Identifies this run of the coordinator; workers that see it change re-announce their tasks.
    let session = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    let startedMs = UnixTime.nowMs()

    var socket: ZMQSocket!
    var zap: ZAPHandler?
    var boundEndpoint = ""
    var membership: Membership
    var leases = LeaseTable()
    /// Task failures by worker: retries go elsewhere, broken workers are quarantined.
    var failures = FailureLedger()
    /// Worker id → connection and CURVE key bindings.
    var identity = WorkerIdentity()
    let identityFile: WorkerIdentityFile
    var jobs: [String: JobRuntime] = [:]
    /// Training jobs (kind pretrain/finetune) by id; `jobOrder` lists them too.
    var trainingJobs: [String: TrainingRuntime] = [:]
    /// Synthesize jobs by id; `jobOrder` lists them too.
    var synthesisJobs: [String: SynthesisRuntime] = [:]
    /// Job ids in submission order (dispatch priority).
    var jobOrder: [String] = []
    /// Where corpus indexes and checkpoint files live: the database's directory.
    let stateDirectory: String
    let checkpointStore: CheckpointStore
    var blobs = BlobServer()
    let submissions: SubmissionQueue
    let exports: ExportQueue
    let wake: WakePipe
    var nextMessageID: UInt64 = 1
    /// Task ids whose results were committed this turn, per worker: acknowledged in one heartbeat.
    var pendingAcks: [String: [String]] = [:]
    let rejectLog: RateLimitedLog
    let stopRequested: Guarded<Bool>
    /// Prometheus metrics and their HTTP endpoint when `[metrics] listen` is set (Metrics/).
    var metrics: CoordinatorMetrics?

    init(config: ClusterConfig, logger: Logger, stopRequested: Guarded<Bool>) throws {
        self.config = config
        self.logger = logger
        self.stopRequested = stopRequested
        context = try ZMQContext()
        codec = WireCodec(limits: config.wireLimits)
        store = try JobStore(path: config.databasePath)
        membership = Membership(settings: config.heartbeatSettings)
        wake = try WakePipe()
        let stateDirectory = (config.databasePath as NSString).deletingLastPathComponent
        self.stateDirectory = stateDirectory.isEmpty ? "." : stateDirectory
        checkpointStore = CheckpointStore(stateDirectory: self.stateDirectory)
        submissions = SubmissionQueue(wake: wake, stateDirectory: self.stateDirectory)
        exports = ExportQueue(wake: wake)
        rejectLog = RateLimitedLog(logger: logger)
        identityFile = WorkerIdentityFile(databasePath: config.databasePath)
        failures.quarantineMs = UInt64(max(60_000, config.leaseTimeoutMs))
    }

    /// Binds the socket (CURVE and ZAP first when configured), restores jobs from the store, and returns the
    /// resolved endpoint. `bindOverride` replaces the config's endpoint (e.g. to rebind a known port).
    @discardableResult
    func start(bindOverride: String? = nil) throws -> String {
        socket = try context.socket(.router)
        try socket.set(.routerMandatory(true), .routerHandover(true), .sendHighWaterMark(Int32(config.sendQueue)),
                       .receiveHighWaterMark(Int32(config.sendQueue)))
        try socket.apply(config.wireLimits)
        if let secretPath = config.coordinatorSecretKey {
            let keys = try CurveKeyPair.load(secretKeyFile: secretPath)
            var allowed = try AllowedKeys.load(config.allowedWorkerKeys)
            // Clients holding the coordinator's own key (admins on this host) and the configured client key.
            allowed.insert(keys.publicKey)
            if let client = config.clientSecretKey { allowed.insert(try CurveKeyPair.load(secretKeyFile: client).publicKey) }
            zap = try ZAPHandler(context: context, allowedKeys: allowed, logger: logger)
            try socket.enableCurveServer(keys: keys)
            identity = try identityFile.load()
            logger.info("CURVE on: \(allowed.count) client keys allowed (\(config.allowedWorkerKeys.count) worker key sources)")
        }
        boundEndpoint = ClusterConfig.connectable(try socket.bind(bindOverride ?? config.endpoint))
        try restore()
        try startMetrics()
        return boundEndpoint
    }

    /// Runs until a stop is requested (SIGINT/SIGTERM).
    func run() {
        var poller = ZMQPoller()
        poller.add(socket)
        poller.add(fileDescriptor: wake.readFD)
        while !stopRequested.value {
            do {
                let events = try poller.poll(timeoutMs: pollTimeoutMs())
                if events[1].contains(.readable) { wake.drain() }
                try drainSocket()
                // Acknowledge before dispatching, so a retried task never overtakes the ack of its last attempt.
                flushAcks()
                finishSubmissions()
                finishExports()
                finishSynthesisEmbeddings()
                tick()
                refreshMetricsIfDue()
            } catch let error as ZMQError where error.isTerminated {
                break
            } catch {
                logger.error("event loop: \(error)")
            }
        }
        shutdown()
    }

    /// Tells workers we are going, and closes everything.
    func shutdown() {
        for member in membership.members.values {
            var goodbye = Uniguard_V1_Disconnect()
            goodbye.reason = "coordinator shutting down"
            send(.disconnect(goodbye), to: member.routingID)
        }
        stopMetrics()
        zap?.stop()
        socket?.close()
        // The WAL goes into the database file, so the file alone holds every job (issue 11).
        do {
            try store.close()
            logger.info("store checkpointed and closed: \(config.databasePath)")
        } catch {
            logger.warning("closing the store \(config.databasePath): \(error)")
        }
    }

    /// The periodic WAL checkpoint (CheckpointPolicy): bounds what a lost or damaged WAL can take with it.
    func checkpointStoreIfDue() {
        do {
            if try store.checkpointIfDue() { logger.debug("checkpointed the store's WAL") }
        } catch {
            logger.warning("WAL checkpoint failed (commits stay safe in the WAL; retried at the next period): \(error)")
        }
    }

    // MARK: Loop helpers

    private func pollTimeoutMs() -> Int {
        var timeout = 250
        if let next = membership.nextDeadline() {
            let remaining = next - ContinuousClock.now
            timeout = min(timeout, max(0, Int(remaining / .milliseconds(1)) + 1))
        }
        return timeout
    }

    /// Handles every message already waiting, without blocking (bounded so timers still run under a flood).
    private func drainSocket() throws {
        for _ in 0..<1000 {
            guard let receipt = try socket.receiveWire(dontWait: true, codec: codec) else { return }
            handle(receipt)
        }
    }

    func makeMessageID() -> UInt64 {
        defer { nextMessageID &+= 1 }
        return nextMessageID
    }

    /// Sends one message to a peer without blocking; false (logged) when the peer is gone or its queue is full.
    @discardableResult
    func send(_ payload: WireEnvelope.OneOf_Payload, to peer: Data, jobID: String = "", replyTo: UInt64 = 0,
              rawFrames: [Data] = []) -> Bool {
        let message = WireMessage(payload, messageId: makeMessageID(), jobId: jobID, replyTo: replyTo, rawFrames: rawFrames)
        do {
            try socket.send(message, to: peer, codec: codec, dontWait: true)
            if let member = membership.member(routingID: peer) { membership.sent(member.id, at: .now) }
            return true
        } catch let error as ZMQError where error.isWouldBlock {
            logger.warning("send queue to \(Self.printable(peer)) is full; dropped \(Self.kind(payload))")
        } catch let error as ZMQError where error.isHostUnreachable {
            logger.debug("peer \(Self.printable(peer)) is gone; dropped \(Self.kind(payload))")
        } catch {
            logger.error("cannot send \(Self.kind(payload)) to \(Self.printable(peer)): \(error)")
        }
        return false
    }

    func sendError(_ code: Uniguard_V1_ErrorCode, _ text: String, to peer: Data, replyTo: UInt64 = 0, jobID: String = "") {
        var error = Uniguard_V1_Error()
        error.code = code
        error.message = text
        send(.error(error), to: peer, jobID: jobID, replyTo: replyTo)
    }

    /// Acknowledges committed results: one heartbeat per worker listing the task ids.
    private func flushAcks() {
        guard !pendingAcks.isEmpty else { return }
        for (workerID, ids) in pendingAcks {
            guard let member = membership.member(workerID) else { continue }
            var beat = Uniguard_V1_Heartbeat()
            beat.sentAtUnixMs = UnixTime.nowMs()
            beat.acknowledgedTaskIds = ids
            send(.heartbeat(beat), to: member.routingID)
        }
        pendingAcks = [:]
    }

    /// A store failure leaves memory and disk out of step: stop, and let the restart recover from the store.
    func storeFailed(_ error: Error, _ what: String) -> Never {
        logger.critical("cannot commit \(what): \(error); exiting so a restart resumes from the last commit")
        exit(70)
    }

    static func printable(_ peer: Data) -> String {
        let text = String(decoding: peer, as: UTF8.self)
        if text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return text }
        return peer.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    static func kind(_ payload: WireEnvelope.OneOf_Payload) -> String {
        String(describing: payload).split(separator: "(").first.map(String.init) ?? "message"
    }
}

/// Logs rejected frames at warning level a few times a minute, then at debug, so a flood cannot fill the log.
final class RateLimitedLog {
    let logger: Logger
    private var windowStart = ContinuousClock.now
    private var count = 0
    private var suppressed = 0

    init(logger: Logger) { self.logger = logger }

    func warning(_ text: String) {
        let now = ContinuousClock.now
        if now - windowStart > .seconds(60) {
            if suppressed > 0 { logger.warning("\(suppressed) more rejected messages in the last minute (not shown)") }
            windowStart = now
            count = 0
            suppressed = 0
        }
        count += 1
        if count <= 20 { logger.warning("\(text)") } else { suppressed += 1; logger.debug("\(text)") }
    }
}
