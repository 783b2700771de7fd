import Foundation
import GRDB

/// The coordinator's one SQLite connection (a GRDB `DatabaseQueue`), used from the event loop's thread.
///
/// WAL journal with synchronous=NORMAL: a committed transaction survives the process being killed (kill -9)
/// because the WAL is in the OS page cache; only an OS crash can lose the last transactions. Writes run in
/// IMMEDIATE transactions so another process holding the file makes us wait (busy timeout), never fail midway.
/// The queue's methods are not reentrant: while `transaction` runs its body, `execute` and `rows` use that
/// transaction's `Database`, so store helpers called inside a transaction join it.
final class StoreDatabase {
    let path: String
    private let queue: DatabaseQueue
    /// The open transaction's connection while `transaction` runs its body.
    private var current: Database?
    /// Transactions committed since the last checkpoint.
    private(set) var commitsSinceCheckpoint = 0
    /// Told how long each committed write transaction took (the metrics' commit latency histogram).
    var onCommit: ((Duration) -> Void)?

    /// How long a write waits for another process's lock before failing.
    static let busyTimeout: TimeInterval = 5

    init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.journalMode = .wal  // GRDB also sets synchronous=NORMAL with it
        config.busyMode = .timeout(Self.busyTimeout)
        config.foreignKeysEnabled = true
        config.label = "coordinator-store"
        do {
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            queue = try DatabaseQueue(path: path, configuration: config)
            // Reads the schema now: a file that is not a database fails here, naming the path, not at the first job.
            _ = try queue.inDatabase { try Int.fetchOne($0, sql: "SELECT count(*) FROM sqlite_master") }
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Brings the schema up to date (each migration in its own transaction, recorded in `grdb_migrations`).
    func migrate(_ migrator: DatabaseMigrator) throws {
        do { try migrator.migrate(queue) } catch { throw StoreError.cannotOpen(path: path, reason: "migration failed: \(error)") }
    }

    /// Whether `transaction` is running its body.
    var inTransaction: Bool { current != nil }

    /// Runs `body` in one IMMEDIATE transaction: all of it is committed, or none of it. Inside another
    /// transaction it joins that one (GRDB cannot nest a queue's transactions).
    func transaction<T>(_ body: () throws -> T) throws -> T {
        if current != nil { return try body() }
        return try inNewTransaction { _ in try body() }
    }

    /// Runs one statement (parameters bound, statement cached by its SQL) in the open transaction or its own.
    func execute(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws {
        try withDatabase { try $0.cachedStatement(sql: sql).execute(arguments: arguments) }
    }

    /// Runs several statements without parameters (schema scripts).
    func executeScript(_ sql: String) throws {
        try withDatabase { try $0.execute(sql: sql) }
    }

    /// Each row of a query turned into a value as it is read, in the open transaction or on its own. A cursor:
    /// `transform` sees each row in place (valid only during the call), so nothing is copied first.
    func map<T>(_ sql: String, _ arguments: StatementArguments = StatementArguments(),
                _ transform: (Row) throws -> T) throws -> [T] {
        func read(_ db: Database) throws -> [T] {
            var values: [T] = []
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
            while let row = try cursor.next() { values.append(try transform(row)) }
            return values
        }
        if let current { return try read(current) }
        return try queue.read(read)
    }

    /// Every row of a query, copied (for small results: scalars, tests).
    func rows(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try map(sql, arguments) { $0.copy() }
    }

    /// Copies the WAL into the database file and truncates it, so the file alone holds every commit (a lost
    /// or damaged WAL then loses nothing committed before this call).
    @discardableResult
    func checkpoint() throws -> (walFrames: Int, checkpointed: Int) {
        guard current == nil else { throw StoreError.busy("cannot checkpoint inside a transaction") }
        let result = try queue.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        commitsSinceCheckpoint = 0
        return (result.walFrameCount, result.checkpointedFrameCount)
    }

    /// Closes the connection; every later call fails.
    func close() throws { try queue.close() }

    private func withDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        if let current { return try body(current) }
        return try inNewTransaction(body)
    }

    private func inNewTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        let result = try StoreCommitTiming.measure(onCommit) { try queue.writeWithoutTransaction { db -> T in
            current = db
            defer { current = nil }
            try db.beginTransaction(.immediate)
            do {
                let value = try body(db)
                try db.commit()
                return value
            } catch {
                if db.isInsideTransaction { try? db.rollback() }
                throw error
            }
        } }
        commitsSinceCheckpoint += 1
        return result
    }
}
