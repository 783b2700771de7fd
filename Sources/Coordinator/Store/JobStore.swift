import Cluster
import Foundation
import Fusion
import Guards

/// Lifecycle of a job.
enum JobState: String, Codable, Sendable {
    case running
    /// All arms evaluated; the best arm is being written as a model directory.
    case exporting
    case done
    case cancelled
    case failed

    var isTerminal: Bool { self == .done || self == .cancelled || self == .failed }
}

/// A job row.
struct StoredJob {
    var id: String
    var kind: String
    var specYAML: String
    var prepared: PreparedMergeSearch
    var state: JobState
    var submitter: String
    var createdMs: UInt64
    var finishedMs: UInt64?
    var search: MergeSearch
    var exportPath: String?
    var message: String?
}

/// An arm row (issued or completed) with its summed confusion counts.
struct StoredArm {
    var jobID: String
    var arm: MergeArm
    var state: String
    var shardCount: Int
    var issuedMs: UInt64
    var completedMs: UInt64?
    var counts: ConfusionCounts?
    var f1: Double?
    var iteration: Int?
    var seconds: Double?
    /// Workers that evaluated its shards (comma-separated ids), for the history.
    var workers: String
    /// Highest lease attempt among its shards (1 = never re-leased).
    var attempts: Int
}

/// A task row: the lease plus, once done, its result.
struct StoredTask {
    var lease: TaskLease
    var counts: ConfusionCounts?
    var elapsedMs: UInt64
}

/// The coordinator's durable state in SQLite (DESIGN.md §4): workers, jobs and specs, task leases, merge arms
/// issued and completed with their confusion counts, the search engine's state (posteriors), checkpoints and
/// blobs. Callers group related writes in `transaction` and commit before acknowledging anything.
final class JobStore {
    let db: SQLiteDatabase
    /// 2: prepared jobs hold `MergeSearchSpec` + `CandidateRanking` (see PreparedJobMigration).
    static let schemaVersion = 2

    init(path: String) throws {
        db = try SQLiteDatabase(path: path)
        try migrate()
    }

    func transaction<T>(_ body: () throws -> T) throws -> T { try db.transaction(body) }

    private func migrate() throws {
        try db.execute("""
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS workers(
                id TEXT PRIMARY KEY, hostname TEXT NOT NULL, slots INTEGER NOT NULL, software_version TEXT,
                blas_core TEXT, first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL, state TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS jobs(
                id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL, spec_yaml TEXT NOT NULL,
                prepared_json TEXT NOT NULL, state TEXT NOT NULL, submitter TEXT NOT NULL, created_ms INTEGER NOT NULL,
                finished_ms INTEGER, search_json TEXT NOT NULL, best_f1 REAL, export_path TEXT, message TEXT);
            CREATE TABLE IF NOT EXISTS arms(
                job_id TEXT NOT NULL REFERENCES jobs(id), arm_id INTEGER NOT NULL, arm_json TEXT NOT NULL,
                state TEXT NOT NULL, shard_count INTEGER NOT NULL, issued_ms INTEGER NOT NULL, completed_ms INTEGER,
                tp INTEGER, fp INTEGER, tn INTEGER, fn INTEGER, f1 REAL, iteration INTEGER, seconds REAL,
                PRIMARY KEY(job_id, arm_id));
            CREATE TABLE IF NOT EXISTS tasks(
                id TEXT PRIMARY KEY, job_id TEXT NOT NULL REFERENCES jobs(id), arm_id INTEGER NOT NULL,
                shard INTEGER NOT NULL, state TEXT NOT NULL, worker_id TEXT, attempt INTEGER NOT NULL,
                lease_deadline_ms INTEGER NOT NULL, leased_ms INTEGER NOT NULL, tp INTEGER, fp INTEGER, tn INTEGER,
                fn INTEGER, elapsed_ms INTEGER, completed_ms INTEGER);
            CREATE INDEX IF NOT EXISTS tasks_by_job ON tasks(job_id, state);
            CREATE TABLE IF NOT EXISTS blobs(
                hash TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ms INTEGER NOT NULL,
                PRIMARY KEY(path));
            CREATE TABLE IF NOT EXISTS checkpoints(
                job_id TEXT NOT NULL, kind TEXT NOT NULL, path TEXT NOT NULL, created_ms INTEGER NOT NULL);
            """)
        let stored = try db.query("SELECT value FROM meta WHERE key = 'schema_version'").first?.first?.string
        if stored == "1" { try PreparedJobMigration.upgradeJobs(db) }
        try db.run("INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', ?)", [.text(String(Self.schemaVersion))])
    }

    // MARK: Jobs

    func nextJobID() throws -> (id: String, seq: Int) {
        let seq = Int(try db.query("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").first?.first?.int ?? 1)
        return ("job-\(seq)", seq)
    }

    func insertJob(_ job: StoredJob, seq: Int) throws {
        try db.run("""
            INSERT INTO jobs(id, seq, kind, spec_yaml, prepared_json, state, submitter, created_ms, search_json)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(job.id), SQLiteValue(seq), .text(job.kind), .text(job.specYAML),
                  .text(try Self.json(job.prepared)), .text(job.state.rawValue), .text(job.submitter),
                  SQLiteValue(job.createdMs), .text(try Self.json(job.search))])
    }

    /// Jobs, oldest first; `states` nil means all.
    func loadJobs(states: [JobState]? = nil) throws -> [StoredJob] {
        var sql = """
            SELECT id, kind, spec_yaml, prepared_json, state, submitter, created_ms, finished_ms, search_json,
                   export_path, message FROM jobs
            """
        if let states { sql += " WHERE state IN (" + states.map { "'\($0.rawValue)'" }.joined(separator: ",") + ")" }
        sql += " ORDER BY seq"
        return try db.query(sql).map { row in
            StoredJob(id: row[0].string ?? "", kind: row[1].string ?? "", specYAML: row[2].string ?? "",
                      prepared: try Self.decode(PreparedMergeSearch.self, row[3].string),
                      state: JobState(rawValue: row[4].string ?? "") ?? .failed, submitter: row[5].string ?? "",
                      createdMs: UInt64(row[6].int ?? 0), finishedMs: row[7].int.map { UInt64($0) },
                      search: try Self.decode(MergeSearch.self, row[8].string), exportPath: row[9].string,
                      message: row[10].string)
        }
    }

    func saveSearch(job: String, _ search: MergeSearch) throws {
        try db.run("UPDATE jobs SET search_json = ?, best_f1 = ? WHERE id = ?",
                   [.text(try Self.json(search)), SQLiteValue(search.best?.f1), .text(job)])
    }

    func setJobState(_ job: String, _ state: JobState, finishedMs: UInt64? = nil, exportPath: String? = nil,
                     message: String? = nil) throws {
        try db.run("""
            UPDATE jobs SET state = ?, finished_ms = COALESCE(?, finished_ms), export_path = COALESCE(?, export_path),
                            message = COALESCE(?, message) WHERE id = ?
            """, [.text(state.rawValue), finishedMs.map { SQLiteValue($0) } ?? .null, SQLiteValue(exportPath),
                  SQLiteValue(message), .text(job)])
    }

    // MARK: Arms and tasks

    func insertArm(job: String, arm: MergeArm, shardCount: Int, issuedMs: UInt64) throws {
        try db.run("""
            INSERT INTO arms(job_id, arm_id, arm_json, state, shard_count, issued_ms) VALUES(?, ?, ?, 'issued', ?, ?)
            """, [.text(job), SQLiteValue(arm.id.rawValue), .text(try Self.json(arm)), SQLiteValue(shardCount),
                  SQLiteValue(issuedMs)])
    }

    func completeArm(job: String, arm: Int, counts: ConfusionCounts, record: SearchRecord, completedMs: UInt64) throws {
        try db.run("""
            UPDATE arms SET state = 'done', completed_ms = ?, tp = ?, fp = ?, tn = ?, fn = ?, f1 = ?, iteration = ?,
                            seconds = ? WHERE job_id = ? AND arm_id = ?
            """, [SQLiteValue(completedMs), SQLiteValue(counts.tp), SQLiteValue(counts.fp), SQLiteValue(counts.tn),
                  SQLiteValue(counts.fn), .real(record.f1), SQLiteValue(record.iteration), .real(record.seconds),
                  .text(job), SQLiteValue(arm)])
    }

    func abandonArms(job: String) throws {
        try db.run("UPDATE arms SET state = 'abandoned' WHERE job_id = ? AND state = 'issued'", [.text(job)])
    }

    func loadArms(job: String) throws -> [StoredArm] {
        try db.query("""
            SELECT a.arm_json, a.state, a.shard_count, a.issued_ms, a.completed_ms, a.tp, a.fp, a.tn, a.fn, a.f1,
                   a.iteration, a.seconds,
                   (SELECT GROUP_CONCAT(DISTINCT t.worker_id) FROM tasks t
                     WHERE t.job_id = a.job_id AND t.arm_id = a.arm_id AND t.state = 'done'),
                   (SELECT MAX(t.attempt) FROM tasks t WHERE t.job_id = a.job_id AND t.arm_id = a.arm_id)
            FROM arms a WHERE a.job_id = ? ORDER BY a.arm_id
            """, [.text(job)]).map { row in
            let counts: ConfusionCounts? = row[5].int.map { tp in
                ConfusionCounts(tp: Int(tp), fp: Int(row[6].int ?? 0), tn: Int(row[7].int ?? 0),
                               fn: Int(row[8].int ?? 0))
            }
            return StoredArm(jobID: job, arm: try Self.decode(MergeArm.self, row[0].string), state: row[1].string ?? "",
                             shardCount: Int(row[2].int ?? 1), issuedMs: UInt64(row[3].int ?? 0),
                             completedMs: row[4].int.map { UInt64($0) }, counts: counts, f1: row[9].double,
                             iteration: row[10].int.map { Int($0) }, seconds: row[11].double,
                             workers: row[12].string ?? "", attempts: Int(row[13].int ?? 0))
        }
    }

    func insertTask(_ lease: TaskLease) throws {
        try db.run("""
            INSERT INTO tasks(id, job_id, arm_id, shard, state, worker_id, attempt, lease_deadline_ms, leased_ms)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(lease.taskID), .text(lease.jobID), SQLiteValue(lease.armID), SQLiteValue(lease.shard),
                  .text(lease.state.rawValue), SQLiteValue(lease.workerID), SQLiteValue(lease.attempt),
                  SQLiteValue(lease.deadlineUnixMs), SQLiteValue(lease.leasedAtUnixMs)])
    }

    /// Writes a lease's state, holder, attempt and deadline.
    func updateLease(_ lease: TaskLease) throws {
        try db.run("""
            UPDATE tasks SET state = ?, worker_id = ?, attempt = ?, lease_deadline_ms = ?, leased_ms = ? WHERE id = ?
            """, [.text(lease.state.rawValue), SQLiteValue(lease.workerID), SQLiteValue(lease.attempt),
                  SQLiteValue(lease.deadlineUnixMs), SQLiteValue(lease.leasedAtUnixMs), .text(lease.taskID)])
    }

    func completeTask(_ id: String, worker: String, counts: ConfusionCounts, elapsedMs: UInt64, completedMs: UInt64) throws {
        try db.run("""
            UPDATE tasks SET state = 'done', worker_id = ?, tp = ?, fp = ?, tn = ?, fn = ?, elapsed_ms = ?,
                             completed_ms = ? WHERE id = ?
            """, [.text(worker), SQLiteValue(counts.tp), SQLiteValue(counts.fp), SQLiteValue(counts.tn),
                  SQLiteValue(counts.fn), SQLiteValue(elapsedMs), SQLiteValue(completedMs), .text(id)])
    }

    func cancelTasks(job: String) throws {
        try db.run("UPDATE tasks SET state = 'cancelled' WHERE job_id = ? AND state IN ('queued', 'leased')", [.text(job)])
    }

    func loadTasks(job: String) throws -> [StoredTask] {
        try db.query("""
            SELECT id, arm_id, shard, state, worker_id, attempt, lease_deadline_ms, leased_ms, tp, fp, tn, fn, elapsed_ms
            FROM tasks WHERE job_id = ? ORDER BY arm_id, shard
            """, [.text(job)]).map { row in
            let lease = TaskLease(taskID: row[0].string ?? "", jobID: job, armID: Int(row[1].int ?? 0),
                                  shard: Int(row[2].int ?? 0),
                                  state: TaskLease.State(rawValue: row[3].string ?? "") ?? .queued,
                                  workerID: row[4].string, attempt: Int(row[5].int ?? 0),
                                  deadlineUnixMs: UInt64(max(row[6].int ?? 0, 0)), leasedAtUnixMs: UInt64(max(row[7].int ?? 0, 0)))
            let counts: ConfusionCounts? = row[8].int.map { tp in
                ConfusionCounts(tp: Int(tp), fp: Int(row[9].int ?? 0), tn: Int(row[10].int ?? 0),
                               fn: Int(row[11].int ?? 0))
            }
            return StoredTask(lease: lease, counts: counts, elapsedMs: UInt64(max(row[12].int ?? 0, 0)))
        }
    }

    // MARK: Workers

    func upsertWorker(_ m: WorkerMember, state: String) throws {
        try db.run("""
            INSERT INTO workers(id, hostname, slots, software_version, blas_core, first_seen_ms, last_seen_ms, state)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET hostname = excluded.hostname, slots = excluded.slots,
                software_version = excluded.software_version, blas_core = excluded.blas_core,
                last_seen_ms = excluded.last_seen_ms, state = excluded.state
            """, [.text(m.id), .text(m.hostname), SQLiteValue(m.slots), .text(m.softwareVersion), .text(m.blasCore),
                  SQLiteValue(m.joinedUnixMs), SQLiteValue(m.lastHeardUnixMs), .text(state)])
    }

    func setWorkerState(_ id: String, _ state: String, lastSeenMs: UInt64) throws {
        try db.run("UPDATE workers SET state = ?, last_seen_ms = ? WHERE id = ?",
                   [.text(state), SQLiteValue(lastSeenMs), .text(id)])
    }

    // MARK: Blobs and checkpoints

    /// The hash recorded for a file whose size and modification time are unchanged.
    func knownHash(path: String, size: UInt64, mtimeMs: Int64) throws -> String? {
        try db.query("SELECT hash FROM blobs WHERE path = ? AND size = ? AND mtime_ms = ?",
                     [.text(path), SQLiteValue(size), .integer(mtimeMs)]).first?.first?.string
    }

    func recordBlob(hash: String, path: String, size: UInt64, mtimeMs: Int64) throws {
        try db.run("INSERT OR REPLACE INTO blobs(hash, path, size, mtime_ms) VALUES(?, ?, ?, ?)",
                   [.text(hash), .text(path), SQLiteValue(size), .integer(mtimeMs)])
    }

    /// Every recorded file hash, keyed as `SubmissionQueue.cacheKey` (path, size, mtime).
    func loadBlobHashes() throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try db.query("SELECT path, size, mtime_ms, hash FROM blobs") {
            guard let path = row[0].string, let hash = row[3].string else { continue }
            out[SubmissionQueue.cacheKey(path, UInt64(max(row[1].int ?? 0, 0)), row[2].int ?? 0)] = hash
        }
        return out
    }

    func recordCheckpoint(job: String, kind: String, path: String, createdMs: UInt64) throws {
        try db.run("INSERT INTO checkpoints(job_id, kind, path, created_ms) VALUES(?, ?, ?, ?)",
                   [.text(job), .text(kind), .text(path), SQLiteValue(createdMs)])
    }

    // MARK: JSON columns

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T {
        try JSONDecoder().decode(type, from: Data((text ?? "").utf8))
    }
}
