import Cluster
import Foundation
import Fusion
import GRDB
import Guards

/// The coordinator's durable state in SQLite through GRDB (DESIGN.md §4): workers, jobs and specs, task leases,
/// merge arms issued and completed with their confusion counts, the search engine's state (posteriors),
/// checkpoints and blobs. Callers group related writes in `transaction` and commit before acknowledging
/// anything; every helper called inside it joins that transaction.
final class JobStore {
    let db: StoreDatabase
    /// 2: prepared jobs hold `MergeSearchSpec` + `CandidateRanking` (see PreparedJobMigration).
    static let schemaVersion = 2
    let checkpoints: CheckpointPolicy
    /// Problems found at open that the operator must hear about (e.g. the store lost jobs); the server logs them.
    private(set) var warnings: [String] = []
    /// Finished jobs the database had rolled back (see `restoreRolledBackJobs`); the server logs them as errors.
    private(set) var errors: [String] = []
    private let marksFile: StoreMarksFile
    /// The high-water mark (raised by every `nextJobID`) and the terminal jobs, as in the marks file.
    private var marks: StoreMarks
    /// Jobs set to a terminal state in the open transaction: recorded in the marks once it commits.
    private var newlyTerminal: [String] = []
    private var lastCheckpoint = ContinuousClock.now

    /// What a restored job's message says (followed by the message it had, if any).
    static let restoredMessage = "restored after the store went back in time; history may be incomplete"

    init(path: String, checkpoints: CheckpointPolicy = CheckpointPolicy()) throws {
        db = try StoreDatabase(path: path)
        self.checkpoints = checkpoints
        try db.migrate(StoreSchema.migrator)
        marksFile = StoreMarksFile(databasePath: path)
        marks = try marksFile.read()
        let before = marks
        let highest = try maxJobSeq()
        if highest < marks.highestJobSeq {
            warnings.append("""
                the store lost jobs: \(path) holds jobs up to job-\(highest) but job-\(marks.highestJobSeq) was issued \
                (high-water mark \(marksFile.path)); its WAL was deleted or damaged, or an older copy was restored. \
                New jobs are numbered from job-\(marks.highestJobSeq + 1); no id is reused.
                """)
        } else {
            // A database from before the mark existed, or a crash between commit and mark write: catch up.
            marks.highestJobSeq = highest
        }
        try restoreRolledBackJobs()
        // Terminal jobs the marks lack (committed just before a crash, or from before the marks existed).
        for (id, job) in try terminalJobs() where marks.terminalJobs[id] == nil { marks.terminalJobs[id] = job }
        if marks != before || marksFile.hasLegacyMark { try marksFile.write(marks) }
    }

    /// Runs `body` in one transaction (joining an open one). Jobs it ended are recorded in the marks file once
    /// the outermost transaction commits: the marks never claim what the database did not commit.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        guard !db.inTransaction else { return try body() }
        defer { newlyTerminal = [] }
        let value = try db.transaction(body)
        try recordTerminalJobs()
        return value
    }

    // MARK: Checkpoints and shutdown

    /// Checkpoints the WAL when the policy says so; true when it did. Failures are thrown, and retried only at
    /// the next period (the data stays safe in the WAL meanwhile).
    @discardableResult
    func checkpointIfDue(now: ContinuousClock.Instant = .now) throws -> Bool {
        guard checkpoints.isDue(commits: db.commitsSinceCheckpoint, since: now - lastCheckpoint) else { return false }
        lastCheckpoint = now
        try db.checkpoint()
        return true
    }

    /// Clean shutdown: everything committed goes into the database file, the WAL is truncated, and the
    /// connection closes.
    func close() throws {
        try db.checkpoint()
        try db.close()
    }

    // MARK: Jobs

    private func maxJobSeq() throws -> Int {
        try db.rows("SELECT COALESCE(MAX(seq), 0) FROM jobs").first?.value(0) ?? 0
    }

    /// The next job id: above every job in the database and every id ever issued (the high-water mark, which
    /// is raised before the id is used), skipping ids `taken` says are in use elsewhere (an export directory).
    func nextJobID(skipping taken: (String) -> Bool = { _ in false }) throws -> (id: String, seq: Int) {
        var seq = max(try maxJobSeq(), marks.highestJobSeq) + 1
        while taken("job-\(seq)") { seq += 1 }
        var raised = marks
        raised.highestJobSeq = seq
        try marksFile.write(raised)
        marks = raised
        return ("job-\(seq)", seq)
    }

    func insertJob(_ job: StoredJob, seq: Int) throws {
        try db.execute("""
            INSERT INTO jobs(id, seq, kind, spec_yaml, prepared_json, state, submitter, created_ms, search_json)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [job.id, seq, job.kind, job.specYAML, try Self.json(job.prepared), job.state.rawValue, job.submitter,
                  try StoredInteger.signed(job.createdMs, "jobs.created_ms"), try Self.json(job.search)])
    }

    /// Jobs, oldest first; `states` nil means all.
    func loadJobs(states: [JobState]? = nil) throws -> [StoredJob] {
        var sql = """
            SELECT id, kind, spec_yaml, prepared_json, state, submitter, created_ms, finished_ms, search_json,
                   export_path, message FROM jobs
            """
        if let states { sql += " WHERE state IN (" + states.map { "'\($0.rawValue)'" }.joined(separator: ",") + ")" }
        sql += " ORDER BY seq"
        return try db.map(sql) { row in
            StoredJob(id: try row.value(0), kind: try row.value(1), specYAML: try row.value(2),
                      prepared: try Self.decode(PreparedMergeSearch.self, try row.value(3)),
                      state: JobState(rawValue: try row.value(4)) ?? .failed, submitter: try row.value(5),
                      createdMs: try row.unsigned(6, "jobs.created_ms"), finishedMs: try row.unsignedIfPresent(7, "jobs.finished_ms"),
                      search: try Self.decode(MergeSearch.self, try row.value(8)), exportPath: try row.value(9),
                      message: try row.value(10))
        }
    }

    func saveSearch(job: String, _ search: MergeSearch) throws {
        try db.execute("UPDATE jobs SET search_json = ?, best_f1 = ? WHERE id = ?", [try Self.json(search), search.best?.f1, job])
    }

    func setJobState(_ job: String, _ state: JobState, finishedMs: UInt64? = nil, exportPath: String? = nil,
                     message: String? = nil) throws {
        if state.isTerminal { newlyTerminal.append(job) }
        try transaction {
            try db.execute("""
            UPDATE jobs SET state = ?, finished_ms = COALESCE(?, finished_ms), export_path = COALESCE(?, export_path),
                            message = COALESCE(?, message) WHERE id = ?
            """, [state.rawValue, try StoredInteger.signedIfPresent(finishedMs, "jobs.finished_ms"), exportPath, message, job])
        }
    }

    // MARK: Terminal jobs and a store that went back in time

    /// Jobs in a terminal state with what the marks record of them, by id (all of them, or those in `ids`).
    private func terminalJobs(_ ids: [String]? = nil) throws -> [String: StoreMarks.TerminalJob] {
        var sql = """
            SELECT j.id, j.state, j.finished_ms, j.export_path, j.message,
                   (SELECT COUNT(*) FROM arms a WHERE a.job_id = j.id AND a.state = 'done')
            FROM jobs j WHERE j.state IN ('done', 'cancelled', 'failed')
            """
        if let ids { sql += " AND j.id IN (" + ids.map { _ in "?" }.joined(separator: ",") + ")" }
        let rows = try db.map(sql, StatementArguments(ids ?? [])) { row -> (String, StoreMarks.TerminalJob)? in
            guard let state = JobState(rawValue: try row.value(1)) else { return nil }
            return (try row.value(0), StoreMarks.TerminalJob(
                state: state, finishedMs: try row.unsignedIfPresent(2, "jobs.finished_ms"), exportPath: try row.value(3),
                message: try row.value(4), armsDone: try row.value(5)))
        }
        return Dictionary(rows.compactMap { $0 }, uniquingKeysWith: { first, _ in first })
    }

    /// Adds the jobs the last transaction ended to the marks file. A job enters once: its terminal state is final.
    private func recordTerminalJobs() throws {
        let ids = newlyTerminal.filter { marks.terminalJobs[$0] == nil }
        guard !ids.isEmpty else { return }
        var updated = marks
        for (id, job) in try terminalJobs(ids) { updated.terminalJobs[id] = job }
        guard updated != marks else { return }
        try marksFile.write(updated)
        marks = updated
    }

    /// A job the marks say ended but the database shows unfinished, in another terminal state, with fewer arms
    /// done, or not at all, was rolled back (a damaged WAL frame, an older copy restored). Resuming it would
    /// re-run finished work and overwrite its export, so its terminal state, finish time and export path are put
    /// back from the marks, its leftover tasks and arms are dropped, and its message says it was restored. The
    /// export directory on disk is kept. A job missing from the database cannot be restored (its spec is gone).
    private func restoreRolledBackJobs() throws {
        guard !marks.terminalJobs.isEmpty else { return }
        let found = try db.map("""
            SELECT j.id, j.state, (SELECT COUNT(*) FROM arms a WHERE a.job_id = j.id AND a.state = 'done'), j.message
            FROM jobs j
            """) { row in
            (id: try row.value(0) as String, state: try row.value(1) as String, armsDone: try row.value(2) as Int,
             restored: (try row.value(3) as String?)?.hasPrefix(Self.restoredMessage) ?? false)
        }
        let byID = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var missing: [String] = []
        var restore: [(id: String, job: StoreMarks.TerminalJob)] = []
        for (id, recorded) in marks.terminalJobs.sorted(by: { Self.jobOrder($0.key, $1.key) }) {
            guard let now = byID[id] else {
                missing.append("\(id) (\(recorded.summary))")
                continue
            }
            // A job restored earlier keeps its shorter history; it was reported then.
            let sameState = now.state == recorded.state.rawValue
            guard !sameState || (now.armsDone < recorded.armsDone && !now.restored) else { continue }
            errors.append("""
                the store went back in time: \(id) is \(now.state) with \(now.armsDone) arms done in \(db.path), but \
                \(marksFile.path) records it \(recorded.summary). Restored as \(recorded.state.rawValue) instead of \
                resuming it; its history may be incomplete.
                """)
            restore.append((id, recorded))
        }
        if !missing.isEmpty {
            errors.append("""
                the store went back in time: \(db.path) has no trace of \(missing.count) finished jobs that \
                \(marksFile.path) records: \(missing.joined(separator: "; ")). They cannot be restored (their specs are \
                gone); their export directories are kept.
                """)
        }
        guard !restore.isEmpty else { return }
        try db.transaction {
            for (id, recorded) in restore {
                try cancelTasks(job: id)
                try abandonArms(job: id)
                if let json: String = try db.rows("SELECT search_json FROM jobs WHERE id = ?", [id]).first?.value(0) {
                    var search = try Self.decode(MergeSearch.self, json)
                    for arm in search.inFlight { try search.abandon(arm.id) }
                    try saveSearch(job: id, search)
                }
                let message = Self.restoredMessage + (recorded.message.map { "; \($0)" } ?? "")
                try db.execute("UPDATE jobs SET state = ?, finished_ms = ?, export_path = ?, message = ? WHERE id = ?",
                               [recorded.state.rawValue, try StoredInteger.signedIfPresent(recorded.finishedMs, "jobs.finished_ms"),
                                recorded.exportPath, message, id])
                let exported = try db.rows("SELECT 1 FROM checkpoints WHERE job_id = ? AND kind = 'best-arm'", [id])
                if let path = recorded.exportPath, exported.isEmpty {
                    try recordCheckpoint(job: id, kind: "best-arm", path: path, createdMs: recorded.finishedMs ?? 0)
                }
            }
        }
    }

    /// job-2 before job-10.
    private static func jobOrder(_ a: String, _ b: String) -> Bool { (a.count, a) < (b.count, b) }

    // MARK: Arms and tasks

    func insertArm(job: String, arm: MergeArm, shardCount: Int, issuedMs: UInt64) throws {
        try db.execute("""
            INSERT INTO arms(job_id, arm_id, arm_json, state, shard_count, issued_ms) VALUES(?, ?, ?, 'issued', ?, ?)
            """, [job, arm.id.rawValue, try Self.json(arm), shardCount, try StoredInteger.signed(issuedMs, "arms.issued_ms")])
    }

    func completeArm(job: String, arm: Int, counts: ConfusionCounts, record: SearchRecord, completedMs: UInt64) throws {
        try db.execute("""
            UPDATE arms SET state = 'done', completed_ms = ?, tp = ?, fp = ?, tn = ?, fn = ?, f1 = ?, iteration = ?,
                            seconds = ? WHERE job_id = ? AND arm_id = ?
            """, [try StoredInteger.signed(completedMs, "arms.completed_ms"), counts.tp, counts.fp, counts.tn, counts.fn,
                  record.f1, record.iteration, record.seconds, job, arm])
    }

    func abandonArms(job: String) throws {
        try db.execute("UPDATE arms SET state = 'abandoned' WHERE job_id = ? AND state = 'issued'", [job])
    }

    func loadArms(job: String) throws -> [StoredArm] {
        try db.map("""
            SELECT a.arm_json, a.state, a.shard_count, a.issued_ms, a.completed_ms, a.tp, a.fp, a.tn, a.fn, a.f1,
                   a.iteration, a.seconds,
                   (SELECT GROUP_CONCAT(DISTINCT t.worker_id) FROM tasks t
                     WHERE t.job_id = a.job_id AND t.arm_id = a.arm_id AND t.state = 'done'),
                   (SELECT MAX(t.attempt) FROM tasks t WHERE t.job_id = a.job_id AND t.arm_id = a.arm_id)
            FROM arms a WHERE a.job_id = ? ORDER BY a.arm_id
            """, [job]) { row in
            StoredArm(jobID: job, arm: try Self.decode(MergeArm.self, try row.value(0)), state: try row.value(1),
                      shardCount: try row.value(2), issuedMs: try row.unsigned(3, "arms.issued_ms"),
                      completedMs: try row.unsignedIfPresent(4, "arms.completed_ms"), counts: try Self.counts(row, from: 5),
                      f1: try row.value(9), iteration: try row.value(10), seconds: try row.value(11),
                      workers: try row.value(12) ?? "", attempts: try row.value(13) ?? 0)
        }
    }

    func insertTask(_ lease: TaskLease) throws {
        try db.execute("""
            INSERT INTO tasks(id, job_id, arm_id, shard, state, worker_id, attempt, lease_deadline_ms, leased_ms)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [lease.taskID, lease.jobID, lease.armID, lease.shard, lease.state.rawValue, lease.workerID, lease.attempt,
                  try StoredInteger.signed(lease.deadlineUnixMs, "tasks.lease_deadline_ms"),
                  try StoredInteger.signed(lease.leasedAtUnixMs, "tasks.leased_ms")])
    }

    /// Writes a lease's state, holder, attempt and deadline.
    func updateLease(_ lease: TaskLease) throws {
        try db.execute("""
            UPDATE tasks SET state = ?, worker_id = ?, attempt = ?, lease_deadline_ms = ?, leased_ms = ? WHERE id = ?
            """, [lease.state.rawValue, lease.workerID, lease.attempt,
                  try StoredInteger.signed(lease.deadlineUnixMs, "tasks.lease_deadline_ms"),
                  try StoredInteger.signed(lease.leasedAtUnixMs, "tasks.leased_ms"), lease.taskID])
    }

    func completeTask(_ id: String, worker: String, counts: ConfusionCounts, elapsedMs: UInt64, completedMs: UInt64) throws {
        try db.execute("""
            UPDATE tasks SET state = 'done', worker_id = ?, tp = ?, fp = ?, tn = ?, fn = ?, elapsed_ms = ?,
                             completed_ms = ? WHERE id = ?
            """, [worker, counts.tp, counts.fp, counts.tn, counts.fn, try StoredInteger.signed(elapsedMs, "tasks.elapsed_ms"),
                  try StoredInteger.signed(completedMs, "tasks.completed_ms"), id])
    }

    func cancelTasks(job: String) throws {
        try db.execute("UPDATE tasks SET state = 'cancelled' WHERE job_id = ? AND state IN ('queued', 'leased')", [job])
    }

    func loadTasks(job: String) throws -> [StoredTask] {
        try db.map("""
            SELECT id, arm_id, shard, state, worker_id, attempt, lease_deadline_ms, leased_ms, tp, fp, tn, fn, elapsed_ms
            FROM tasks WHERE job_id = ? ORDER BY arm_id, shard
            """, [job]) { row in
            let lease = TaskLease(taskID: try row.value(0), jobID: job, armID: try row.value(1), shard: try row.value(2),
                                  state: TaskLease.State(rawValue: try row.value(3)) ?? .queued,
                                  workerID: try row.value(4), attempt: try row.value(5),
                                  deadlineUnixMs: try row.unsigned(6, "tasks.lease_deadline_ms"),
                                  leasedAtUnixMs: try row.unsigned(7, "tasks.leased_ms"))
            return StoredTask(lease: lease, counts: try Self.counts(row, from: 8),
                              elapsedMs: try row.unsignedIfPresent(12, "tasks.elapsed_ms") ?? 0)
        }
    }

    // MARK: Workers

    func upsertWorker(_ m: WorkerMember, state: String) throws {
        try db.execute("""
            INSERT INTO workers(id, hostname, slots, software_version, blas_core, first_seen_ms, last_seen_ms, state)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET hostname = excluded.hostname, slots = excluded.slots,
                software_version = excluded.software_version, blas_core = excluded.blas_core,
                last_seen_ms = excluded.last_seen_ms, state = excluded.state
            """, [m.id, m.hostname, m.slots, m.softwareVersion, m.blasCore,
                  try StoredInteger.signed(m.joinedUnixMs, "workers.first_seen_ms"),
                  try StoredInteger.signed(m.lastHeardUnixMs, "workers.last_seen_ms"), state])
    }

    func setWorkerState(_ id: String, _ state: String, lastSeenMs: UInt64) throws {
        try db.execute("UPDATE workers SET state = ?, last_seen_ms = ? WHERE id = ?",
                       [state, try StoredInteger.signed(lastSeenMs, "workers.last_seen_ms"), id])
    }

    // MARK: Blobs and checkpoints

    /// The hash recorded for a file whose size and modification time are unchanged.
    func knownHash(path: String, size: UInt64, mtimeMs: Int64) throws -> String? {
        try db.rows("SELECT hash FROM blobs WHERE path = ? AND size = ? AND mtime_ms = ?",
                    [path, try StoredInteger.signed(size, "blobs.size"), mtimeMs]).first?.value(0)
    }

    func recordBlob(hash: String, path: String, size: UInt64, mtimeMs: Int64) throws {
        try db.execute("INSERT OR REPLACE INTO blobs(hash, path, size, mtime_ms) VALUES(?, ?, ?, ?)",
                       [hash, path, try StoredInteger.signed(size, "blobs.size"), mtimeMs])
    }

    /// Every recorded file hash, keyed as `SubmissionQueue.cacheKey` (path, size, mtime).
    func loadBlobHashes() throws -> [String: String] {
        let pairs = try db.map("SELECT path, size, mtime_ms, hash FROM blobs") { row in
            (SubmissionQueue.cacheKey(try row.value(0), try row.unsigned(1, "blobs.size"), try row.value(2)), try row.value(3) as String)
        }
        // `path` is the primary key, so keys are unique; the last wins if they ever were not.
        return Dictionary(pairs, uniquingKeysWith: { _, last in last })
    }

    func recordCheckpoint(job: String, kind: String, path: String, createdMs: UInt64) throws {
        try db.execute("INSERT INTO checkpoints(job_id, kind, path, created_ms) VALUES(?, ?, ?, ?)",
                       [job, kind, path, try StoredInteger.signed(createdMs, "checkpoints.created_ms")])
    }

    /// A job's recorded files (best-arm exports), oldest first: (kind, path).
    func loadCheckpoints(job: String) throws -> [(kind: String, path: String)] {
        try db.map("SELECT kind, path FROM checkpoints WHERE job_id = ? ORDER BY rowid", [job]) {
            (try $0.value(0), try $0.value(1))
        }
    }

    // MARK: Row and JSON columns

    /// Confusion counts in four columns from `first`, or nil when the row has none yet (tp is NULL).
    private static func counts(_ row: Row, from first: Int) throws -> ConfusionCounts? {
        guard let tp: Int = try row.value(first) else { return nil }
        return ConfusionCounts(tp: tp, fp: try row.value(first + 1) ?? 0, tn: try row.value(first + 2) ?? 0,
                               fn: try row.value(first + 3) ?? 0)
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
