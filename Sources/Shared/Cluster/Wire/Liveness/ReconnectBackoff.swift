/// Reconnect delay that doubles after each failure up to a cap and resets once the peer answers.
public struct ReconnectBackoff: Sendable, Equatable {
    public let initial: Duration
    public let maximum: Duration
    /// Delay the next reconnect will wait.
    public private(set) var current: Duration

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = max(maximum, initial)
        self.current = initial
    }

    public init(_ settings: HeartbeatSettings) {
        self.init(initial: settings.reconnectInitial, maximum: settings.reconnectMax)
    }

    /// The delay to wait now; the following one doubles (capped at `maximum`).
    public mutating func nextDelay() -> Duration {
        let delay = current
        current = min(current * 2, maximum)
        return delay
    }

    /// The peer answered: the next failure starts from `initial` again.
    public mutating func reset() { current = initial }
}
