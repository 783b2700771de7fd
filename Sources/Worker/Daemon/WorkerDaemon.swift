import Cluster
import Foundation
import Fusion
import Logging
import Runtime

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
        /// Sent with the result (a synthesize batch's samples).
        var rawFrames: [Data] = []
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
    /// What training runs on slot threads share with this thread (their bridge to the socket, offered checkpoints).
    let training: TrainingServices
    /// Samples of finished synthesize batches, until their results are collected.
    let synthesis = SynthesisOutbox()

    var socket: ZMQSocket?
    /// Handshake events of the connection: a refused worker says so instead of "coordinator silent".
    var monitor: ZMQHandshakeMonitor?
    /// The last handshake failure, until a handshake succeeds.
    var handshakeProblem: ZMQHandshakeEvent?
    /// Why the coordinator refused this worker for good (e.g. its id is live elsewhere); the worker then stops.
    var refusal: String?
    var heartbeat: Heartbeat
    var registered = false
    var session: String?
    var reconnectAt: ContinuousClock.Instant?
    var tasks: [String: HeldTask] = [:]
    var downloads: [String: ActiveDownload] = [:]
    /// Blob request message id → hash, so a BLOB_NOT_FOUND reply can be matched.
    var blobRequests: [UInt64: String] = [:]
    var nextMessageID: UInt64 = 1
    /// Bridged requests sent for slot threads: message id → where the reply goes.
    var bridgeReplies: [UInt64: BridgeTicket] = [:]
    /// Checkpoint offers sent (message id → the offer), so one refused as BUSY (the coordinator still receives an
    /// earlier checkpoint) is offered again; and those waiting to be.
    var offersSent: [UInt64: (item: CoordinatorBridge.Outgoing, at: ContinuousClock.Instant)] = [:]
    var offerRetries: [(at: ContinuousClock.Instant, item: CoordinatorBridge.Outgoing)] = []

    init(settings: WorkerSettings, evaluators: ArmEvaluatorRegistry, logger: Logger, stopRequested: Guarded<Bool>) throws {
        self.settings = settings
        self.logger = logger
        self.stopRequested = stopRequested
        context = try ZMQContext()
        codec = WireCodec(limits: settings.limits)
        cache = try BlobCache(root: settings.cacheDirectory)
        wake = try WakePipe()
        training = try TrainingServices(bridge: CoordinatorBridge(wake: wake), dataAddress: settings.dataAddress,
                                        cacheRoot: cache.root, logger: logger, stepDelaySeconds: settings.stepDelaySeconds)
        let executor = TaskExecutor(cache: cache, evaluators: evaluators, training: training, synthesis: synthesis, logger: logger)
        pool = SlotPool(slots: settings.slots, wake: wake) { executor.run($0, jobID: $1) }
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
        if let socket, refusal == nil {
            var goodbye = Uniguard_V1_Disconnect()
            goodbye.reason = "worker shutting down"
            try? socket.set(.linger(milliseconds: 500))
            send(.disconnect(goodbye))
            socket.close()
        }
        monitor?.close()
        logger.info("worker \(settings.workerID) stopped")
    }

    func turn() throws {
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
        checkHandshake()
        collectResults()
        guard socket != nil else { return }
        flushBridge()
        resendStale()
        checkDownloads()
        let actions = heartbeat.tick(at: .now)
        if let delay = actions.peerDead {
            if let handshakeProblem {
                logger.warning("no answer from the coordinator: \(handshakeProblem.explanation); reconnecting in \(delay)")
            } else {
                logger.warning("coordinator silent for \(heartbeat.settings.liveness) heartbeats; reconnecting in \(delay)")
            }
            disconnect(reconnectAfter: delay)
        } else if actions.sendHeartbeat {
            if registered { sendHeartbeat() } else { sendRegister() }
        }
    }
}
