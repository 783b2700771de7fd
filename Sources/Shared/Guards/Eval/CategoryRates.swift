/// Verdict rates per sample category (e.g. `code`, `math`, `everyday` for benign traffic): the
/// false-positive rate per benign category, and the recall per unsafe category, so a report shows
/// *which* benign prompts a guard blocks rather than one averaged rate.
public struct CategoryRates: Sendable {
    /// One category's counts.
    public struct Row: Sendable {
        public var category: String
        public var samples = 0
        /// Samples flagged unsafe (false positives for safe rows, true positives for unsafe rows).
        public var flagged = 0
        /// `flagged / samples`: the FPR of a safe category, the recall of an unsafe one.
        public var rate: Double { samples == 0 ? 0 : Double(flagged) / Double(samples) }
    }

    /// Rows of safe samples, by category name.
    public private(set) var safe: [String: Row] = [:]
    /// Rows of unsafe samples, by category name.
    public private(set) var unsafe: [String: Row] = [:]

    /// Counts verdicts `score >= threshold` per (label, category).
    public init(categories: [String], scores: [Float], unsafe truths: [Bool], threshold: Float) {
        precondition(categories.count == scores.count && scores.count == truths.count)
        for i in scores.indices {
            let flagged = scores[i] >= threshold ? 1 : 0
            if truths[i] {
                unsafe[categories[i], default: Row(category: categories[i])].samples += 1
                unsafe[categories[i]]!.flagged += flagged
            } else {
                safe[categories[i], default: Row(category: categories[i])].samples += 1
                safe[categories[i]]!.flagged += flagged
            }
        }
    }

    /// `{"safe": {cat: {"n", "flagged", "fpr"}}, "unsafe": {cat: {"n", "flagged", "recall"}}}`.
    public var jsonObject: [String: Any] {
        ["safe": safe.mapValues { ["n": $0.samples, "flagged": $0.flagged, "fpr": $0.rate] as [String: Any] },
         "unsafe": unsafe.mapValues { ["n": $0.samples, "flagged": $0.flagged, "recall": $0.rate] as [String: Any] }]
    }
}
