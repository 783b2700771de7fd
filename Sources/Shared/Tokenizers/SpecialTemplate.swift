/// The special tokens a model puts around one sequence (HF `post_processor`), e.g. [CLS] … [SEP] or <s> … </s>.
public struct SpecialTemplate: Sendable, Equatable {
    public var prefix: [Int32]
    public var suffix: [Int32]

    public init(prefix: [Int32], suffix: [Int32]) { self.prefix = prefix; self.suffix = suffix }

    /// `prefix + body + suffix` with `body` cut so the whole fits in `maxLength`
    /// (HF truncates the sequence, never the special tokens; below their count it keeps the first `maxLength`).
    public func apply(to body: [Int32], maxLength: Int?) -> [Int32] {
        var room = body.count
        if let maxLength { room = max(0, min(room, maxLength - prefix.count - suffix.count)) }
        var ids: [Int32] = []
        ids.reserveCapacity(prefix.count + room + suffix.count)
        ids.append(contentsOf: prefix)
        ids.append(contentsOf: body[..<room])
        ids.append(contentsOf: suffix)
        if let maxLength, ids.count > maxLength { ids.removeSubrange(max(0, maxLength)...) }
        return ids
    }
}
