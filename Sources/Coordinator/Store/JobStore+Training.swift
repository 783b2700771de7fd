import Cluster
import Foundation
import GRDB

/// A committed checkpoint: the step, the generation that wrote it, and its files (content-addressed).
struct CommittedCheckpoint: Codable, Equatable {
    var step: Int
    var generation: Int
    var files: [ModelBlobSet.File]
    var committedMs: UInt64
}

/// A generation as stored: who had which rank, from which step, and why it ended.
struct StoredGeneration: Equatable {
    var generation: Int
    var startStep: Int
    var members: [String]
    var startedMs: UInt64
    var endedMs: UInt64?
    var endReason: String?
}

/// Training jobs: their rows in `jobs`, membership generations and committed checkpoints.
extension JobStore {
    func insertTrainingJob(_ job: StoredTrainingJob, seq: Int) throws {
        try insertJobRow(job, kind: job.prepared.spec.kind.rawValue, seq: seq)
    }

    /// Training jobs, oldest first.
    func loadTrainingJobs() throws -> [StoredTrainingJob] {
        try loadJobRows(kinds: ["pretrain", "finetune"])
    }

    /// Every job id in submission order with its kind (merge-search and training), for status ordering.
    func jobKinds() throws -> [(id: String, kind: String)] {
        try db.map("SELECT id, kind FROM jobs ORDER BY seq") { (try $0.value(0), try $0.value(1)) }
    }

    func insertGeneration(job: String, _ g: StoredGeneration) throws {
        try db.execute("""
            INSERT INTO training_generations(job_id, generation, start_step, members_json, started_ms) VALUES(?, ?, ?, ?, ?)
            """, [job, g.generation, g.startStep, try Self.json(g.members), try StoredInteger.signed(g.startedMs, "training_generations.started_ms")])
    }

    func endGeneration(job: String, generation: Int, endedMs: UInt64, reason: String) throws {
        try db.execute("""
            UPDATE training_generations SET ended_ms = ?, end_reason = ? WHERE job_id = ? AND generation = ? AND ended_ms IS NULL
            """, [try StoredInteger.signed(endedMs, "training_generations.ended_ms"), reason, job, generation])
    }

    func loadGenerations(job: String) throws -> [StoredGeneration] {
        try db.map("""
            SELECT generation, start_step, members_json, started_ms, ended_ms, end_reason FROM training_generations
            WHERE job_id = ? ORDER BY generation
            """, [job]) { row in
            StoredGeneration(generation: try row.value(0), startStep: try row.value(1),
                             members: try Self.decode([String].self, try row.value(2)),
                             startedMs: try row.unsigned(3, "training_generations.started_ms"),
                             endedMs: try row.unsignedIfPresent(4, "training_generations.ended_ms"), endReason: try row.value(5))
        }
    }

    func commitCheckpoint(job: String, _ checkpoint: CommittedCheckpoint) throws {
        try db.execute("""
            INSERT OR REPLACE INTO training_checkpoints(job_id, step, generation, files_json, committed_ms) VALUES(?, ?, ?, ?, ?)
            """, [job, checkpoint.step, checkpoint.generation, try Self.json(checkpoint.files),
                  try StoredInteger.signed(checkpoint.committedMs, "training_checkpoints.committed_ms")])
    }

    /// The newest committed checkpoint of a job.
    func lastCheckpoint(job: String) throws -> CommittedCheckpoint? {
        try db.map("""
            SELECT step, generation, files_json, committed_ms FROM training_checkpoints WHERE job_id = ?
            ORDER BY step DESC LIMIT 1
            """, [job]) { row in
            CommittedCheckpoint(step: try row.value(0), generation: try row.value(1),
                                files: try Self.decode([ModelBlobSet.File].self, try row.value(2)),
                                committedMs: try row.unsigned(3, "training_checkpoints.committed_ms"))
        }.first
    }

    func checkpointCount(job: String) throws -> Int {
        try db.rows("SELECT COUNT(*) FROM training_checkpoints WHERE job_id = ?", [job]).first?.value(0) ?? 0
    }

    /// Deletes all but the newest `keep` committed checkpoints of a job (0: every one).
    func dropCheckpoints(job: String, keepingNewest keep: Int) throws {
        try db.execute("""
            DELETE FROM training_checkpoints WHERE job_id = ? AND step NOT IN
            (SELECT step FROM training_checkpoints WHERE job_id = ? ORDER BY step DESC LIMIT ?)
            """, [job, job, keep])
    }

    /// Every file hash a committed checkpoint of any job still names.
    func checkpointFileHashes() throws -> Set<String> {
        var hashes = Set<String>()
        for files in try db.map("SELECT files_json FROM training_checkpoints", [], { row in try row.value(0) as String }) {
            for file in try Self.decode([ModelBlobSet.File].self, files) { hashes.insert(file.hash) }
        }
        return hashes
    }
}
