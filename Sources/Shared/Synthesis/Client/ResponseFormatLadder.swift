import Runtime

/// The response-format level the run currently uses, shared by all requests: once a server rejects
/// `json_schema`, every later request starts at `json_object` (and so on) instead of being refused again.
public final class ResponseFormatLadder: Sendable {
    private let current: Guarded<ResponseFormatLevel>
    public init(start: ResponseFormatLevel = .jsonSchema) { current = Guarded(start) }
    public var level: ResponseFormatLevel { current.value }

    /// Steps below `rejected` unless a concurrent request already did (`changed` false then); nil when
    /// `rejected` was plain text.
    func stepDown(from rejected: ResponseFormatLevel) -> (level: ResponseFormatLevel, changed: Bool)? {
        current.withLock { level in
            guard let next = rejected.fallback else { return nil }
            guard level <= rejected else { return (level, false) }
            level = next
            return (level, true)
        }
    }
}
