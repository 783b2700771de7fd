/// Heartbeat timing shared by both ends (zguide Paranoid Pirate): interval, liveness, reconnect back-off.
public struct HeartbeatSettings: Sendable, Equatable {
    /// Silence after which we send a heartbeat, and the unit of liveness.
    public var interval: Duration
    /// Intervals of silence from the peer before it is considered dead.
    public var liveness: Int
    /// First reconnect delay; doubles after each failed attempt up to `reconnectMax`.
    public var reconnectInitial: Duration
    public var reconnectMax: Duration

    public init(interval: Duration = .seconds(1), liveness: Int = 3,
                reconnectInitial: Duration = .seconds(1), reconnectMax: Duration = .seconds(32)) {
        self.interval = interval
        self.liveness = max(1, liveness)
        self.reconnectInitial = reconnectInitial
        self.reconnectMax = max(reconnectMax, reconnectInitial)
    }

    /// How long a peer may stay silent before it is declared dead.
    public var expiry: Duration { interval * liveness }
}
