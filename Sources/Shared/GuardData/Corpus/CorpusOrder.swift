import Runtime
/// Which corpus records a training step reads: epochs are seeded permutations of the records laid end to
/// end, and step s takes positions s·batch ..< (s+1)·batch of that sequence. A pure function of (count,
/// seed, step), so a resumed run reads exactly what the uninterrupted one would have.
public struct CorpusOrder: Sendable {
    public let count: Int
    public let seed: UInt64
    private var epoch = -1
    private var permutation: [Int32] = []

    public init(count: Int, seed: UInt64) {
        precondition(count > 0 && count <= Int(Int32.max), "corpus size out of range")
        self.count = count; self.seed = seed
    }

    /// Record indices of step `step` for batch size `batch` (the sequence wraps into the next epoch).
    public mutating func rows(step: Int, batch: Int) -> [Int] {
        (step * batch ..< (step + 1) * batch).map { position in
            let e = position / count
            if e != epoch { shuffle(epoch: e) }
            return Int(permutation[position % count])
        }
    }

    /// The epoch a step starts in (for progress display).
    public func epoch(ofStep step: Int, batch: Int) -> Int { step * batch / count + 1 }

    private mutating func shuffle(epoch e: Int) {
        epoch = e
        permutation = (0..<Int32(count)).map { $0 }
        var rng = RandomSource(seed: RandomSource.key(seed, UInt64(e), 0xC0_5E))
        permutation.shuffle(using: &rng)
    }
}
