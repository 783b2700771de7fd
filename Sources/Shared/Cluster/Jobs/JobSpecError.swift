/// A job, task or model reference that cannot run; the message names the key.
public struct JobSpecError: Error, CustomStringConvertible, Equatable {
    public var source: String
    public var key: String
    public var reason: String

    public init(source: String, key: String, reason: String) {
        self.source = source
        self.key = key
        self.reason = reason
    }

    public var description: String { "\(source): \(key): \(reason)" }
}
