import GRDB

/// What the metrics read from the store.
extension JobStore {
    /// Jobs by kind and state, as committed (every job kind, including kinds the event loop keeps elsewhere).
    func jobCountsByKindAndState() throws -> [CoordinatorMetrics.JobKey: Int] {
        var counts: [CoordinatorMetrics.JobKey: Int] = [:]
        for (kind, state, count) in try db.map("SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state", StatementArguments(),
                                               { (try $0.value(0) as String, try $0.value(1) as String, try $0.value(2) as Int) }) {
            counts[CoordinatorMetrics.JobKey(kind: kind, state: state)] = count
        }
        return counts
    }
}
