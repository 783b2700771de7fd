import Foundation
import Runtime

/// What the endpoint was asked and answered: requests, retries by cause, tokens as the server reported them.
public struct UsageCounts: Sendable, Hashable, Codable {
    /// HTTP requests sent (every attempt counts).
    public var requests = 0
    /// Replies accepted (usable content).
    public var completions = 0
    public var rateLimited = 0
    public var serverErrors = 0
    /// Timeouts and lost or refused connections.
    public var transportErrors = 0
    /// Replies that were unusable (bad JSON, ignored schema, wrong fields) and asked again.
    public var malformedReplies = 0
    /// Steps down the `response_format` ladder (at most 2 a run; concurrent requests refused at the same level count once).
    public var formatFallbacks = 0
    /// Requests refused for their `response_format` (and asked again one level down).
    public var formatRejected = 0
    public var promptTokens = 0
    public var completionTokens = 0

    public init() {}

    public var totalTokens: Int { promptTokens + completionTokens }

    public static func + (a: UsageCounts, b: UsageCounts) -> UsageCounts {
        var s = a
        s.requests += b.requests; s.completions += b.completions; s.rateLimited += b.rateLimited
        s.serverErrors += b.serverErrors; s.transportErrors += b.transportErrors; s.malformedReplies += b.malformedReplies
        s.formatFallbacks += b.formatFallbacks; s.formatRejected += b.formatRejected; s.promptTokens += b.promptTokens; s.completionTokens += b.completionTokens
        return s
    }

    /// One line for the end of a run.
    public var summary: String {
        "\(requests) requests (\(completions) usable; retried: \(rateLimited) rate-limited, \(serverErrors) server errors, "
            + "\(transportErrors) timeouts/connection errors, \(malformedReplies) malformed replies, \(formatRejected) refused response_format; "
            + "\(formatFallbacks) format fallbacks), "
            + "tokens \(promptTokens) prompt + \(completionTokens) completion = \(totalTokens)"
    }
}

/// The run's counters, shared by concurrent requests.
public final class UsageTally: Sendable {
    private let counts = Guarded(UsageCounts())
    public init() {}
    public var snapshot: UsageCounts { counts.value }
    func record(_ change: (inout UsageCounts) -> Void) { counts.withLock(change) }
}
