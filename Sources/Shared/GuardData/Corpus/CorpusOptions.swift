/// Settings of one corpus build (`uniguard corpus build`); defaults are the command's defaults.
public struct CorpusOptions: Sendable {
    /// Most other policies each unsafe prompt becomes a safe example for.
    public var crossPairs = 1
    /// How many of the `PolicyPhrasings.count` phrasings records use (nil: all).
    public var phrasings: Int?
    /// Seed of every deterministic choice (phrasing, cross-pair targets).
    public var seed: UInt64 = 0
    /// Append ` [SEP] <rationale>` to own records. Off by default: rationales often state the verdict,
    /// which would leak the label into the classifier's input.
    public var includeRationales = false
    /// Count and skip malformed lines and samples of unknown policies instead of stopping.
    public var skipInvalid = false
    /// Policies left out entirely: no own records, no pairs from or to them, no phrasing of them.
    public var excludedPolicies: Set<String> = []
    /// Prompts embedded together for near-duplicate detection.
    public var dedupBatch = 256
    /// Cosine similarity at or above which a prompt is a near duplicate.
    public var nearDuplicateThreshold: Float = 0.95
    /// Kept embeddings remembered per policy and label across batches.
    public var nearDuplicateWindow = 1024
    /// Separator between instruction segments: the target model's separator token (`InstructionFormat.separator(of:)`;
    /// `corpus build --for-model`), BERT's `[SEP]` by default.
    public var separator = "[SEP]"

    public init() {}

    /// Phrasings in use.
    public var phrasingCount: Int { phrasings ?? PolicyPhrasings.count }
}

/// A setting or input that makes a corpus build impossible, said so the fix is clear.
public struct CorpusError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
