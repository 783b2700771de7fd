/// Times a store transaction for the commit latency histogram (`StoreDatabase.onCommit`: every write transaction, grouped or a single statement); without an observer it only runs it.
enum StoreCommitTiming {
    static func measure<T>(_ observer: ((Duration) -> Void)?, _ body: () throws -> T) rethrows -> T {
        guard let observer else { return try body() }
        let start = ContinuousClock.now
        let value = try body()
        observer(ContinuousClock.now - start)
        return value
    }
}
