import Foundation

/// When and how long to wait before asking again: exponential back-off (doubling from `baseDelay`, capped at
/// `maxDelay`, with up to 25% jitter so parallel requests do not retry in lock-step), or the server's own
/// `Retry-After` when it sends one (capped at `maxRetryAfter`).
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts after the first, per request, for 429, 5xx, timeouts, lost connections and malformed replies.
    public var maxRetries: Int
    public var baseDelay: Double
    public var maxDelay: Double
    /// The longest `Retry-After` honoured; a server asking for longer is waited on this long, then asked again.
    public var maxRetryAfter: Double

    public init(maxRetries: Int = 6, baseDelay: Double = 0.5, maxDelay: Double = 30, maxRetryAfter: Double = 120) {
        self.maxRetries = maxRetries; self.baseDelay = baseDelay; self.maxDelay = maxDelay; self.maxRetryAfter = maxRetryAfter
    }

    /// Seconds to wait before retry number `retry` (1-based); `retryAfter` is the server's value, if any.
    public func delay(retry: Int, retryAfter: Double?, jitter: Double) -> Double {
        if let retryAfter { return min(max(retryAfter, 0), maxRetryAfter) }
        let exponential = min(baseDelay * pow(2, Double(max(retry - 1, 0))), maxDelay)
        return exponential * (1 + 0.25 * min(max(jitter, 0), 1))
    }

    /// Parses a `Retry-After` header: delta-seconds, or an HTTP-date (RFC 9110 §10.2.3) relative to `now`.
    public static func retryAfterSeconds(_ header: String?, now: Date = Date()) -> Double? {
        guard let text = header?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}
