import Foundation
import Runtime

/// One of the three dataset splits.
public enum DataSplit: String, Sendable, CaseIterable, Hashable {
    case train, val, test
}

/// Splits a sample file into train / val / test by hash, so the split of a prompt never depends on
/// file order, and identical prompts (after `PromptText.normalized`) always share a split.
///
/// Rule: the key of a sample is SHA-256 of its normalised prompt. Samples whose `source` ends in
/// `#<group>` (the template expander tags every variant of one seed example this way) are tied to that
/// group too; tied keys form connected components (union–find), so all variants of a seed and every
/// identical prompt land together, and a test set never holds a re-framed copy of a training prompt.
/// A component's representative is its smallest key, re-mixed (SplitMix64) to stay uniform; its
/// position in [0, 1) picks the split: below `test` → test, below `test + val` → val, else train.
/// Two passes over the input: memory grows only with the number of grouped samples.
public struct DataSplitter: Sendable {
    /// Fraction of components in the validation split.
    public let val: Double
    /// Fraction of components in the test split.
    public let test: Double

    public init(val: Double = 0.1, test: Double = 0.1) throws {
        guard val >= 0, test >= 0, val + test < 1, val.isFinite, test.isFinite else {
            throw SampleError(path: "--val/--test", line: 0, field: nil, problem: "fractions must be ≥ 0 and sum to less than 1 (got val \(val), test \(test))")
        }
        self.val = val
        self.test = test
    }

    /// 64-bit key of a normalised prompt (first 8 bytes of its SHA-256).
    public static func promptKey(_ prompt: String) -> UInt64 { key("p\u{1F}" + PromptText.normalized(prompt)) }

    /// 64-bit key of a split group name.
    public static func groupKey(_ group: String) -> UInt64 { key("g\u{1F}" + group) }

    static func key(_ text: String) -> UInt64 {
        SHA256.hash(text).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The split of a component represented by `key`.
    public func split(forKey key: UInt64) -> DataSplit {
        let position = Double(SeededRandom.mix(key) >> 11) / Double(UInt64(1) << 53)
        if position < test { return .test }
        if position < test + val { return .val }
        return .train
    }

    /// The split of an ungrouped prompt (what `split(file:)` does for lines without `#group`).
    public func split(prompt: String) -> DataSplit { split(forKey: Self.promptKey(prompt)) }

    /// Counts per (policy, label, split).
    public struct Report: Sendable {
        public var counts: [String: [SafetyLabel: [DataSplit: Int]]] = [:]
        public var skipped = 0
        public var skipReport = ""

        /// Total samples written to a split.
        public func total(_ split: DataSplit) -> Int {
            counts.values.reduce(0) { sum, labels in sum + labels.values.reduce(0) { $0 + ($1[split] ?? 0) } }
        }

        /// A fixed-width table: policy, label, train, val, test.
        public var table: String {
            var lines = [pad("policy", 20) + pad("label", 8) + DataSplit.allCases.map { lpad($0.rawValue, 9) }.joined()]
            for policy in counts.keys.sorted() {
                for label in SafetyLabel.allCases {
                    guard let row = counts[policy]?[label] else { continue }
                    lines.append(pad(policy, 20) + pad(label.rawValue, 8) + DataSplit.allCases.map { lpad(String(row[$0] ?? 0), 9) }.joined())
                }
            }
            lines.append(pad("total", 28) + DataSplit.allCases.map { lpad(String(total($0)), 9) }.joined())
            return lines.joined(separator: "\n")
        }

        private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        private func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
    }

    /// Splits `input` into `outDirectory/{train,val,test}.jsonl`.
    public func split(file input: String, outDirectory: String, skipInvalid: Bool = false) throws -> Report {
        guard input != "-" else {
            throw SampleError(path: input, line: 0, field: nil, problem: "split reads its input twice; pass a file, not standard input")
        }
        // Pass 1: tie grouped samples' prompt keys to their group keys.
        var components = KeyComponents()
        let first = try SampleReader(path: input, skipInvalid: skipInvalid)
        try first.forEachSample { sample in
            if let group = sample.group { components.union(Self.promptKey(sample.prompt), Self.groupKey(group)) }
        }
        // Pass 2: route every sample by its component's representative.
        try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true)
        var writers: [DataSplit: SampleWriter] = [:]
        for split in DataSplit.allCases {
            writers[split] = try SampleWriter(path: (outDirectory as NSString).appendingPathComponent(split.rawValue + ".jsonl"))
        }
        var report = Report()
        let second = try SampleReader(path: input, skipInvalid: skipInvalid)
        try second.forEachSample { sample in
            let split = self.split(forKey: components.representative(Self.promptKey(sample.prompt)))
            try writers[split]!.write(sample)
            report.counts[sample.policy, default: [:]][sample.label, default: [:]][split, default: 0] += 1
        }
        for split in DataSplit.allCases { try writers[split]!.close() }
        report.skipped = second.skippedCount
        report.skipReport = second.skipReport
        return report
    }
}

/// Union–find over 64-bit keys whose representative is the smallest key, so the result depends only
/// on which keys are tied together, not on the order they were seen.
struct KeyComponents {
    private var parent: [UInt64: UInt64] = [:]

    mutating func find(_ key: UInt64) -> UInt64 {
        var root = key
        while let next = parent[root], next != root { root = next }
        var node = key
        while let next = parent[node], next != root { parent[node] = root; node = next }
        return root
    }

    mutating func union(_ a: UInt64, _ b: UInt64) {
        let ra = find(a), rb = find(b)
        if parent[ra] == nil { parent[ra] = ra }
        if parent[rb] == nil { parent[rb] = rb }
        guard ra != rb else { return }
        if ra < rb { parent[rb] = ra } else { parent[ra] = rb }
    }

    /// The component representative for a key (the key itself when it was never tied).
    mutating func representative(_ key: UInt64) -> UInt64 { parent[key] == nil ? key : find(key) }
}
