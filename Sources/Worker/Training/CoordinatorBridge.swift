import Cluster
import Foundation
import Runtime

/// Lets a slot thread (a training run) talk to the coordinator while the daemon thread alone owns the socket:
/// requests wait in a queue and the daemon is woken through its WakePipe to send them; replies come back by the
/// request's message id to a `BridgeTicket` the slot thread waits on, with a timeout. Fire-and-forget messages
/// (progress) with a coalescing key replace an unsent one with the same key, so a slow link never queues stale
/// progress.
final class CoordinatorBridge: Sendable {
    /// A message for the daemon to send.
    struct Outgoing: Sendable {
        var payload: WireEnvelope.OneOf_Payload
        var jobID: String
        /// Where the reply goes; nil: no reply expected.
        var ticket: BridgeTicket?
        /// Unsent messages with the same key are replaced (nil: never).
        var coalesceKey: String?
    }

    private let queue = Guarded<[Outgoing]>([])
    private let wake: WakePipe

    init(wake: WakePipe) { self.wake = wake }

    /// Queues a request whose reply (matched by message id) fulfils the returned ticket.
    func request(_ payload: WireEnvelope.OneOf_Payload, jobID: String) -> BridgeTicket {
        let ticket = BridgeTicket()
        queue.withLock { $0.append(Outgoing(payload: payload, jobID: jobID, ticket: ticket, coalesceKey: nil)) }
        wake.wake()
        return ticket
    }

    /// Queues a message that expects no reply.
    func post(_ payload: WireEnvelope.OneOf_Payload, jobID: String, coalesceKey: String? = nil) {
        queue.withLock { list in
            if let coalesceKey, let i = list.firstIndex(where: { $0.coalesceKey == coalesceKey }) {
                list[i].payload = payload
            } else {
                list.append(Outgoing(payload: payload, jobID: jobID, ticket: nil, coalesceKey: coalesceKey))
            }
        }
        wake.wake()
    }

    /// Daemon thread: everything queued, oldest first (requests whose requester gave up are dropped).
    func takeOutgoing() -> [Outgoing] {
        queue.withLock { list in
            defer { list = [] }
            return list.filter { !($0.ticket?.isSettled ?? false) }
        }
    }

    /// Daemon thread: what could not be sent now goes back to the front of the queue.
    func putBack(_ items: [Outgoing]) {
        guard !items.isEmpty else { return }
        queue.withLock { $0.insert(contentsOf: items, at: 0) }
    }

    var hasOutgoing: Bool { queue.withLock { !$0.isEmpty } }
}

/// The reply to one bridged request: filled by the daemon thread, awaited by the slot thread.
final class BridgeTicket: @unchecked Sendable {
    // @unchecked: `outcome` is only touched under `condition`.
    enum Outcome: Sendable {
        case reply(WireMessage)
        /// The request cannot be answered (connection lost, coordinator restarted): ask again if still useful.
        case failed(String)
    }

    private let condition = NSCondition()
    private var outcome: Outcome?
    private var abandoned = false

    /// Waits up to `timeout`; nil when nothing arrived in time (the ticket is then abandoned).
    func wait(timeout: Duration) -> Outcome? {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18)
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil {
            if !condition.wait(until: deadline) { break }
        }
        if outcome == nil { abandoned = true }
        return outcome
    }

    /// The outcome if one arrived, without waiting.
    var ready: Outcome? {
        condition.lock()
        defer { condition.unlock() }
        return outcome
    }

    /// Settles the ticket once; later outcomes are ignored.
    func fulfil(_ result: Outcome) {
        condition.lock()
        if outcome == nil { outcome = result }
        condition.broadcast()
        condition.unlock()
    }

    /// Answered or given up on: the daemon may forget it.
    var isSettled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return outcome != nil || abandoned
    }
}
