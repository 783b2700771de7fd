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
    /// 2: prepared jobs hold `MergeSearchSpec` + `CandidateRanking` (see PreparedJobMigration); 3: training jobs;
    /// 4: synthesize jobs; 5: their near-duplicate counts, disagreements and policy suggestions.
    static let schemaVersion = 5
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

    /// Merge-search jobs, oldest first; `states` nil means all. (Training jobs: `loadTrainingJobs`.)
    func loadJobs(states: [JobState]? = nil) throws -> [StoredJob] {
        var sql = """
            SELECT id, kind, spec_yaml, prepared_json, state, submitter, created_ms, finished_ms, search_json,
                   export_path, message FROM jobs WHERE kind NOT IN \(Self.nonSearchKinds)
            """
        if let states { sql += " AND state IN (" + states.map { "'\($0.rawValue)'" }.joined(separator: ",") + ")" }
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

    /// Job kinds whose rows are not merge searches (their own loaders read them).
    static let nonSearchKinds = "('pretrain', 'finetune', 'synthesize')"

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
                if let json: String = try db.rows("SELECT search_json FROM jobs WHERE id = ? AND kind NOT IN \(Self.nonSearchKinds)",
                                                  [id]).first?.value(0) {
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

    // MARK: Row and JSON columns

    /// Confusion counts in four columns from `first`, or nil when the row has none yet (tp is NULL).
    static func counts(_ row: Row, from first: Int) throws -> ConfusionCounts? {
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
