import Cluster
import Foundation
import Fusion
import GRDB
import Guards

/// Workers as last seen, file hashes already computed (so resubmitted models are not hashed again), checkpoints.
extension JobStore {
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
}
