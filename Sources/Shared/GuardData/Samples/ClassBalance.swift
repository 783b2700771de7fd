/// Balances a policy's training samples by label so a guard does not learn the class prior of whatever
/// mix of sources it was given: the minority label is oversampled (whole passes over it, then a seeded
/// choice of the rest) until both labels have as many samples as the majority. Oversampling rather than a
/// weighted loss keeps the trainer untouched and every batch's loss an ordinary mean.
public enum ClassBalance {
    /// `samples` plus repeated minority samples; unchanged when one label is absent or already balanced.
    public static func oversampled(_ samples: [Sample], seed: UInt64) -> [Sample] {
        let safe = samples.filter { $0.label == .safe }, unsafe = samples.filter { $0.label == .unsafe }
        guard !safe.isEmpty, !unsafe.isEmpty, safe.count != unsafe.count else { return samples }
        let minority = safe.count < unsafe.count ? safe : unsafe
        let missing = abs(safe.count - unsafe.count)
        var out = samples
        out.reserveCapacity(samples.count + missing)
        for i in 0..<(missing / minority.count) * minority.count { out.append(minority[i % minority.count]) }
        // The remainder: minority samples ordered by a seeded hash, so the choice is reproducible.
        let rest = missing % minority.count
        if rest > 0 {
            let order = minority.indices.sorted { mix(UInt64($0), seed) < mix(UInt64($1), seed) }
            for i in order.prefix(rest) { out.append(minority[i]) }
        }
        return out
    }

    // SplitMix64 finaliser of index and seed.
    private static func mix(_ x: UInt64, _ seed: UInt64) -> UInt64 {
        var z = x &+ seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
