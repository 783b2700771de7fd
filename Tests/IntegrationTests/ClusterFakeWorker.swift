@testable import Cluster
import Foundation
import XCTest

/// A worker played by the test over the real protocol: registers, heartbeats and reports whatever the test says
/// (hostile, hung or broken workers), on its own DEALER socket.
final class FakeWorker {
    let id: String
    let codec = WireCodec()
    private let context: ZMQContext
    private let socket: ZMQSocket
    private var nextMessageID: UInt64 = 1
    /// Messages received while waiting for something else, oldest first.
    private var inbox: [WireEnvelope.OneOf_Payload] = []
    /// Task ids its heartbeats say it runs (every assignment joins; a lying worker keeps listing them).
    var held: [String] = []

    /// Connects as `id`, on a connection whose routing id is `routingID` (default: the id, as the real worker does).
    init(_ id: String, routingID: String? = nil, endpoint: String, curve: (keys: CurveKeyPair, server: CurveKey)? = nil) throws {
        self.id = id
        context = try ZMQContext()
        socket = try context.socket(.dealer)
        try socket.set(.routingId(Data((routingID ?? id).utf8)))
        if let curve { try socket.enableCurveClient(keys: curve.keys, serverKey: curve.server) }
        try socket.connect(endpoint)
    }

    deinit { socket.close() }

    func send(_ payload: WireEnvelope.OneOf_Payload) throws {
        nextMessageID += 1
        try socket.send(codec.encode(WireMessage(payload, messageId: nextMessageID)))
    }

    /// Sends a message with raw frames after the envelope (a BlobChunk's bytes).
    func send(_ payload: WireEnvelope.OneOf_Payload, rawFrames: [Data], jobID: String = "") throws {
        nextMessageID += 1
        try socket.send(codec.encode(WireMessage(payload, messageId: nextMessageID, jobId: jobID, rawFrames: rawFrames)))
    }

    func register(slots: UInt32 = 1) throws {
        var register = Uniguard_V1_RegisterWorker()
        register.workerID = id
        register.hostname = "fake"
        register.slots = slots
        try send(.registerWorker(register))
    }

    func heartbeat() throws {
        var beat = Uniguard_V1_Heartbeat()
        beat.runningTaskIds = held
        try send(.heartbeat(beat))
    }

    /// Reports counts for a task (any task id and attempt: the coordinator decides what counts).
    func report(_ taskID: String, attempt: UInt32, tp: UInt64 = 0, fp: UInt64 = 0, tn: UInt64 = 0, fn: UInt64 = 0,
                elapsedMs: UInt64 = 0) throws {
        var counts = Uniguard_V1_ConfusionCounts()
        (counts.tp, counts.fp, counts.tn, counts.fn) = (tp, fp, tn, fn)
        var eval = Uniguard_V1_EvalResult()
        eval.counts = counts
        var result = Uniguard_V1_TaskResult()
        result.taskID = taskID
        result.attempt = attempt
        result.elapsedMs = elapsedMs
        result.eval = eval
        try send(.taskResult(result))
    }

    /// Reports that a task failed on this worker.
    func fail(_ assignment: Uniguard_V1_TaskAssignment, reason: String = "broken worker") throws {
        var error = Uniguard_V1_Error()
        error.code = .taskFailed
        error.message = reason
        var result = Uniguard_V1_TaskResult()
        result.taskID = assignment.taskID
        result.attempt = assignment.attempt
        result.error = error
        try send(.taskResult(result))
    }

    func goodbye() throws {
        var goodbye = Uniguard_V1_Disconnect()
        goodbye.reason = "test over"
        try send(.disconnect(goodbye))
    }

    /// Heartbeats (so liveness holds) and takes in what arrives for up to 100 ms.
    private func pump() throws {
        try heartbeat()
        guard let frames = try socket.receiveMultipart(timeoutMs: 100),
              let payload = try codec.decode(frames).payload else { return }
        inbox.append(payload)
    }

    /// Waits for a message `match` accepts (also one that arrived earlier), staying alive meanwhile.
    func waitFor<T>(_ what: String, timeout: TimeInterval = 30, _ match: (WireEnvelope.OneOf_Payload) -> T?) throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let i = inbox.firstIndex(where: { match($0) != nil }) { return match(inbox.remove(at: i))! }
            try pump()
        } while Date() < deadline
        throw TestFailure("\(id): no \(what) within \(timeout) s")
    }

    /// Waits until `condition` holds (e.g. a coordinator log line), staying alive meanwhile.
    func waitUntil(_ what: String, timeout: TimeInterval = 15, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if try condition() { return }
            try pump()
        } while Date() < deadline
        throw TestFailure("\(id): timed out after \(timeout) s waiting for \(what)")
    }

    /// The next task assignment; the task joins `held`.
    func nextAssignment(timeout: TimeInterval = 30) throws -> Uniguard_V1_TaskAssignment {
        let assignment = try waitFor("task assignment", timeout: timeout) {
            if case .taskAssignment(let a) = $0 { return a } else { return nil }
        }
        if !held.contains(assignment.taskID) { held.append(assignment.taskID) }
        return assignment
    }

    /// The next error reply with `code` (others, e.g. UNKNOWN_SENDER for heartbeats, are skipped).
    func nextError(_ code: Uniguard_V1_ErrorCode, timeout: TimeInterval = 15) throws -> Uniguard_V1_Error {
        try waitFor("\(code) error", timeout: timeout) {
            if case .error(let e) = $0, e.code == code { return e } else { return nil }
        }
    }
}

/// CURVE key pairs made with `coordinator keygen` in a temp directory: the coordinator's and named worker keys,
/// all listed in `allowed_worker_keys` except those made with `listed: false`.
final class TestCurveKeys {
    let directory: String
    private let bin: String

    init() throws {
        bin = try ClusterBinaries.require()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("uniguard-keys-\(UUID().uuidString.prefix(8))").path
        try make("coordinator", in: directory)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// The `[curve]` section of cluster.conf.
    var config: String {
        """
        [curve]
        coordinator_secret_key = "\(directory)/coordinator.key_secret"
        allowed_worker_keys = ["\(directory)/workers"]
        """
    }

    var serverKeyPath: String { "\(directory)/coordinator.key" }

    @discardableResult
    func make(_ name: String, listed: Bool = true) throws -> String {
        try make(name, in: "\(directory)/\(listed ? "workers" : "other")")
        return secretKeyPath(name, listed: listed)
    }

    func secretKeyPath(_ name: String, listed: Bool = true) -> String {
        "\(directory)/\(listed ? "workers" : "other")/\(name).key_secret"
    }

    /// Keys for a `FakeWorker` speaking CURVE.
    func client(_ name: String, listed: Bool = true) throws -> (keys: CurveKeyPair, server: CurveKey) {
        (try CurveKeyPair.load(secretKeyFile: secretKeyPath(name, listed: listed)), try CurveKey.load(publicKeyFile: serverKeyPath))
    }

    private func make(_ name: String, in dir: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(bin)/coordinator")
        process.arguments = ["keygen", "--out", dir, "--name", name]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("coordinator keygen \(name) failed") }
    }
}
