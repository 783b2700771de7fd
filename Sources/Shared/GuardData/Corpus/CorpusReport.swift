/// What a corpus build read, dropped and wrote, for the summary on stderr.
public struct CorpusReport: Sendable {
    /// Records and drops of one policy.
    public struct PolicyCounts: Sendable, Equatable {
        /// Own safe samples written.
        public var ownSafe = 0
        /// Own unsafe samples written.
        public var ownUnsafe = 0
        /// Safe records borrowed from other policies' unsafe prompts.
        public var crossSafe = 0
        /// Own samples dropped as exact duplicates.
        public var exactDuplicates = 0
        /// Own samples dropped as near duplicates.
        public var nearDuplicates = 0

        public init() {}

        /// Records written under this policy.
        public var records: Int { ownSafe + ownUnsafe + crossSafe }
    }

    /// Valid sample lines read (including dropped ones).
    public var samplesRead = 0
    /// Lines skipped as malformed or of an unknown policy (`skipInvalid`).
    public var skippedInvalid = 0
    /// The readers' skip reports, one per file with skips.
    public var skipReports: [String] = []
    /// Samples of excluded policies dropped.
    public var excludedSamples = 0
    /// Samples dropped as exact duplicates.
    public var exactDuplicates = 0
    /// Samples dropped as near duplicates (0 without embedding dedup).
    public var nearDuplicates = 0
    /// Prompts that are both safe and unsafe under one policy (both kept; the data should be fixed).
    public var labelConflicts = 0
    /// Unsafe prompts that found no eligible pair target (e.g. every `prompt_injection` prompt).
    public var unpairedUnsafe = 0
    /// Records written.
    public var recordsWritten = 0
    /// Fingerprints held by the exact-dedup set at the end (8 bytes each: the only memory that grows).
    public var dedupKeys = 0
    /// Per policy id.
    public var policies: [String: PolicyCounts] = [:]
    /// Records per phrasing index.
    public var phrasingCounts: [Int] = []

    public init() {}

    /// Fixed-width table: one row per policy, then totals.
    public var table: String {
        let headers = ["policy", "own safe", "own unsafe", "cross safe", "records", "exact dup", "near dup"]
        var rows: [[String]] = []
        var total = PolicyCounts()
        for id in policies.keys.sorted() {
            let c = policies[id]!
            rows.append([id] + Self.cells(c))
            total.ownSafe += c.ownSafe; total.ownUnsafe += c.ownUnsafe; total.crossSafe += c.crossSafe
            total.exactDuplicates += c.exactDuplicates; total.nearDuplicates += c.nearDuplicates
        }
        rows.append(["total"] + Self.cells(total))
        let widths = headers.indices.map { i in max(headers[i].count, rows.map { $0[i].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }

    /// One line: records per phrasing index.
    public var phrasingLine: String {
        "phrasings: " + phrasingCounts.enumerated().map { "#\($0.offset) \($0.element)" }.joined(separator: ", ")
    }

    private static func cells(_ c: PolicyCounts) -> [String] {
        [c.ownSafe, c.ownUnsafe, c.crossSafe, c.records, c.exactDuplicates, c.nearDuplicates].map(String.init)
    }
}
