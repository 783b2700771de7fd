import Dispatch
import Foundation
import Logging
import Runtime

/// ZeroMQ authentication (ZAP, RFC 27) for one context: admits CURVE clients whose public key is listed.
///
/// Runs its own thread with a REP socket bound to `inproc://zeromq.zap.01`. Start it before binding any
/// CURVE server socket of the same context; only one handler can exist per context.
public final class ZAPHandler: Sendable {
    public static let endpoint = "inproc://zeromq.zap.01"

    private let state: ZAPState
    private let finished = DispatchSemaphore(value: 0)

    /// Binds the handler socket and starts serving; throws if the bind fails (e.g. a handler already exists).
    public init(context: ZMQContext, allowedKeys: some Sequence<CurveKey>,
                logger: Logger = Logger(label: "uniguard.zap")) throws {
        let state = ZAPState(allowed: Set(allowedKeys), logger: logger)
        self.state = state
        let ready = DispatchSemaphore(value: 0)
        let startError = Guarded<Error?>(nil)
        let finished = self.finished
        let thread = Thread {
            defer { finished.signal() }
            let socket: ZMQSocket
            do {
                socket = try context.socket(.rep)
                try socket.bind(ZAPHandler.endpoint)
            } catch {
                startError.value = error
                ready.signal()
                return
            }
            ready.signal()
            ZAPHandler.serve(socket, state)
            socket.close()
        }
        thread.name = "uniguard-zap"
        thread.start()
        ready.wait()
        if let error = startError.value { throw error }
    }

    deinit { stop() }

    /// The client public keys currently admitted.
    public var allowedKeys: Set<CurveKey> { state.allowed.value }

    /// Admits another client key from now on (existing connections are unaffected either way).
    public func allow(_ key: CurveKey) { state.allowed.withLock { _ = $0.insert(key) } }

    /// Stops admitting a key; already-authenticated connections stay up until they reconnect.
    public func revoke(_ key: CurveKey) { state.allowed.withLock { _ = $0.remove(key) } }

    /// Handshakes accepted and refused so far.
    public var acceptedCount: Int { state.counts.value.accepted }
    public var deniedCount: Int { state.counts.value.denied }

    /// Stops the thread and unbinds the endpoint; waits at most one poll interval. Idempotent.
    public func stop() {
        let wasRunning = state.running.withLock { running in
            defer { running = false }
            return running
        }
        if wasRunning { finished.wait() }
    }

    private static func serve(_ socket: ZMQSocket, _ state: ZAPState) {
        while state.running.value {
            do {
                // A short timeout so stop() is noticed promptly.
                guard let request = try socket.receiveMultipart(timeoutMs: 100) else { continue }
                // REP must answer every request, malformed or not, or its state machine wedges.
                try socket.send(state.reply(to: request))
            } catch let error as ZMQError where error.isTerminated {
                return
            } catch {
                state.logger.error("ZAP handler: \(error)")
            }
        }
    }
}
