import GuardData

/// Random access to corpus records by row (index into the valid-record order): CorpusIndex (local file) conforms;
/// the worker implements one that fetches byte ranges from the coordinator.
public protocol CorpusRecordSource: AnyObject {
    var count: Int { get }
    var sha256: String { get }
    func records(_ rows: [Int]) throws -> [CorpusRecord]
    /// Rows that will be read soon (a remote source fetches them ahead); may do nothing.
    func prefetch(_ rows: [Int])
}

extension CorpusIndex: CorpusRecordSource {
    public func records(_ rows: [Int]) throws -> [CorpusRecord] {
        try rows.map { row in
            guard (0..<count).contains(row) else { throw TrainingError.noData("\(path): row \(row) is outside the corpus's \(count) records") }
            return try record(row)
        }
    }

    /// The file is memory-mapped: nothing to fetch ahead.
    public func prefetch(_ rows: [Int]) {}
}
