/// A prompt's verdict under one policy; `unsafe` is the positive class in every metric.
public enum SafetyLabel: String, Sendable, Hashable, CaseIterable, Codable {
    case safe
    case unsafe

    /// Class index used by two-class heads: safe = 0, unsafe = 1.
    public var classIndex: Int { self == .safe ? 0 : 1 }
}
