/// Paranoid Pirate liveness for one connection, as pure logic: the caller passes the time in.
///
/// Call `received(at:)` for every message from the peer (any traffic proves life), `sent(at:)` for every
/// message we send (any traffic spares a heartbeat), and `tick(at:)` whenever the poll loop wakes; it
/// says whether to send a heartbeat and whether the peer is dead. A worker reconnects after
/// `.peerDead(reconnectAfter:)`; the coordinator instead drops the worker and returns its leases.
public struct Heartbeat: Sendable {
    public typealias Instant = ContinuousClock.Instant

    /// What the caller should do after a tick.
    public struct Actions: Sendable, Equatable {
        /// Send a heartbeat now: we have been silent for an interval.
        public var sendHeartbeat = false
        /// The peer was silent for `liveness` intervals. Non-nil: reconnect after this back-off delay.
        public var peerDead: Duration? = nil
    }

    public let settings: HeartbeatSettings
    public private(set) var lastReceived: Instant
    public private(set) var lastSent: Instant
    public private(set) var backoff: ReconnectBackoff

    public init(settings: HeartbeatSettings = HeartbeatSettings(), now: Instant) {
        self.settings = settings
        self.lastReceived = now
        self.lastSent = now
        self.backoff = ReconnectBackoff(settings)
    }

    /// Any message from the peer: full liveness again, and the reconnect back-off resets.
    public mutating func received(at now: Instant) {
        lastReceived = now
        backoff.reset()
    }

    /// Any message to the peer (a heartbeat included) pushes our next heartbeat one interval out.
    public mutating func sent(at now: Instant) {
        lastSent = now
    }

    /// Remaining liveness: whole intervals the peer can still stay silent (0 = dead).
    public func liveness(at now: Instant) -> Int {
        let silent = now - lastReceived
        guard silent > .zero else { return settings.liveness }
        let missed = Int((silent / settings.interval).rounded(.down))
        return max(0, settings.liveness - missed)
    }

    public func isPeerDead(at now: Instant) -> Bool { now - lastReceived >= settings.expiry }

    /// Decides what is due at `now`. When the peer is dead it also starts a fresh liveness period from
    /// the end of the back-off, so the reconnected peer gets `liveness` intervals to answer.
    public mutating func tick(at now: Instant) -> Actions {
        var actions = Actions()
        if isPeerDead(at: now) {
            let delay = backoff.nextDelay()
            actions.peerDead = delay
            lastReceived = now + delay
        }
        if now - lastSent >= settings.interval {
            actions.sendHeartbeat = true
            lastSent = now
        }
        return actions
    }

    /// When the next tick has something to do: a poll timeout for the caller's loop.
    public func nextDeadline() -> Instant {
        min(lastSent + settings.interval, lastReceived + settings.expiry)
    }

    /// Milliseconds until nextDeadline(), clamped to 0..., for zmq_poll.
    public func pollTimeoutMs(at now: Instant) -> Int {
        let remaining = nextDeadline() - now
        guard remaining > .zero else { return 0 }
        let (seconds, attoseconds) = remaining.components
        return Int(seconds) * 1000 + Int((attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }
}
