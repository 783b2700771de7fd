/// How much to generate and how: the knobs of `SynthesisRun` that do not change what a batch asks for.
public struct SynthesisOptions: Sendable, Hashable {
    /// Accepted samples per policy and label (like `uniguard data expand --count`).
    public var countPerLabel: Int
    /// Prompts asked for per generation request.
    public var batchSize: Int = 8
    /// Batches in flight at once (each is a generation request, then a reflection request).
    public var concurrency: Int = 4
    public var seed: UInt64 = 0
    /// Cosine similarity at or above which a prompt is a near duplicate (as `uniguard corpus build`).
    public var nearDuplicateThreshold: Float = 0.95
    public var nearDuplicateWindow: Int = 1024
    /// A (policy, label) whose last this-many committed batches added nothing stops the run (the model repeats itself).
    public var maxFruitlessBatches: Int = 20

    public init(countPerLabel: Int) { self.countPerLabel = countPerLabel }
}

/// A moment of a run, for a progress bar.
public struct SynthesisProgress: Sendable {
    public var accepted: Int
    public var target: Int
    public var usage: UsageCounts
    public var counts: SynthesisCounts
    /// Seconds since this run started.
    public var elapsed: Double
    /// Seconds left at this run's pace; nil before the first batch.
    public var eta: Double?
}

/// What a run did.
public struct SynthesisReport: Sendable {
    public var state: SynthesisState
    /// Samples that were already in the output when this run started.
    public var resumedSamples: Int
    /// Bytes of a cut-short batch removed from the output on resume.
    public var truncatedBytes: UInt64
    /// This run's requests and tokens (the state holds the totals over all runs).
    public var usage: UsageCounts
    public var seconds: Double
}
