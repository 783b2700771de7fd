import Cluster
import Foundation
import GRDB

/// One batch as stored: what it asks for, and once done what it gave.
struct StoredSynthesisBatch: Equatable {
    var batch: Int
    var policy: String
    var label: String
    var sequence: Int
    var count: Int
    /// issued | done | cancelled
    var state: String
    var outcome: SynthesisBatchOutcome?
}

/// What one committed batch gave, after central dedup.
struct SynthesisBatchOutcome: Equatable {
    var commitSeq: Int
    var worker: String
    var generated = 0
    var accepted = 0
    var duplicates = 0
    /// Dropped as near duplicates (embedding cosine at or above the job's threshold).
    var nearDuplicates = 0
    var surplus = 0
    var relabelled = 0
    var dropped = 0
    var requests = 0
    var promptTokens = 0
    var completionTokens = 0
    var retries = 0
}

/// `refine_policy`'s outcome for one policy of a job.
struct StoredRefinement: Equatable {
    var policy: String
    /// pending (a refine task is queued or leased) | written (`path`) | skipped (no disagreements) | failed (`message`) |
    /// cancelled (the job stopped first)
    var state: String
    var path: String?
    var message: String?
    /// Disagreements the policy had when refinement began.
    var disagreements: Int
    var requests = 0
    var promptTokens = 0
    var completionTokens = 0
}

/// Synthesize jobs: their rows in `jobs`, batches issued and committed, the accepted sample lines, the judge's
/// disagreements, and `refine_policy`'s suggestions.
extension JobStore {
    func insertSynthesisJob(_ job: StoredSynthesisJob, seq: Int) throws {
        try insertJobRow(job, kind: "synthesize", seq: seq)
    }

    /// Synthesize jobs, oldest first.
    func loadSynthesisJobs() throws -> [StoredSynthesisJob] {
        try loadJobRows(kinds: ["synthesize"])
    }

    func insertSynthesisBatch(job: String, _ b: StoredSynthesisBatch, issuedMs: UInt64) throws {
        try db.execute("""
            INSERT INTO synth_batches(job_id, batch, policy, label, sequence, count, state, issued_ms) VALUES(?, ?, ?, ?, ?, ?, 'issued', ?)
            """, [job, b.batch, b.policy, b.label, b.sequence, b.count, try StoredInteger.signed(issuedMs, "synth_batches.issued_ms")])
    }

    /// Commits a batch: its outcome, its accepted sample lines (each with its policy and label) at `commitSeq`,
    /// and the judge's disagreements (kept for `refine_policy`).
    func commitSynthesisBatch(job: String, batch: Int, outcome o: SynthesisBatchOutcome, lines: [(policy: String, label: String, line: String)],
                              disagreements: [JobDisagreement] = [], completedMs: UInt64) throws {
        try db.execute("""
            UPDATE synth_batches SET state = 'done', commit_seq = ?, worker_id = ?, completed_ms = ?, generated = ?, accepted = ?,
                duplicates = ?, near_duplicates = ?, surplus = ?, relabelled = ?, dropped = ?, requests = ?, prompt_tokens = ?,
                completion_tokens = ?, retries = ? WHERE job_id = ? AND batch = ?
            """, [o.commitSeq, o.worker, try StoredInteger.signed(completedMs, "synth_batches.completed_ms"), o.generated, o.accepted,
                  o.duplicates, o.nearDuplicates, o.surplus, o.relabelled, o.dropped, o.requests, o.promptTokens, o.completionTokens,
                  o.retries, job, batch])
        for (position, sample) in lines.enumerated() {
            try db.execute("INSERT INTO synth_samples(job_id, commit_seq, position, policy, label, line) VALUES(?, ?, ?, ?, ?, ?)",
                           [job, o.commitSeq, position, sample.policy, sample.label, sample.line])
        }
        for (position, d) in disagreements.enumerated() {
            try db.execute("INSERT INTO synth_disagreements(job_id, commit_seq, position, policy, line) VALUES(?, ?, ?, ?, ?)",
                           [job, o.commitSeq, position, d.policy, d.line])
        }
    }

    /// Disagreements per policy of a job.
    func synthesisDisagreementCounts(job: String) throws -> [String: Int] {
        let rows: [(String, Int)] = try db.map("SELECT policy, COUNT(*) FROM synth_disagreements WHERE job_id = ? GROUP BY policy", [job]) { row in
            (try row.value(0), try row.value(1))
        }
        return Dictionary(rows, uniquingKeysWith: +)
    }

    /// A policy's `limit` most recent disagreements, oldest first.
    func recentSynthesisDisagreements(job: String, policy: String, limit: Int) throws -> [JobDisagreement] {
        let lines: [String] = try db.map("""
            SELECT line FROM synth_disagreements WHERE job_id = ? AND policy = ? ORDER BY commit_seq DESC, position DESC LIMIT ?
            """, [job, policy, limit]) { try $0.value(0) }
        return lines.reversed().compactMap { try? JobDisagreement.decode(line: $0) }
    }

    func insertSynthesisRefinement(job: String, _ r: StoredRefinement) throws {
        try db.execute("INSERT INTO synth_refinements(job_id, policy, state, path, message, disagreements) VALUES(?, ?, ?, ?, ?, ?)",
                       [job, r.policy, r.state, r.path, r.message, r.disagreements])
    }

    func updateSynthesisRefinement(job: String, _ r: StoredRefinement, completedMs: UInt64) throws {
        try db.execute("""
            UPDATE synth_refinements SET state = ?, path = ?, message = ?, requests = ?, prompt_tokens = ?, completion_tokens = ?,
                completed_ms = ? WHERE job_id = ? AND policy = ?
            """, [r.state, r.path, r.message, r.requests, r.promptTokens, r.completionTokens,
                  try StoredInteger.signed(completedMs, "synth_refinements.completed_ms"), job, r.policy])
    }

    /// A stopped job's pending refinements will not run.
    func cancelSynthesisRefinements(job: String) throws {
        try db.execute("UPDATE synth_refinements SET state = 'cancelled' WHERE job_id = ? AND state = 'pending'", [job])
    }

    func loadSynthesisRefinements(job: String) throws -> [StoredRefinement] {
        try db.map("""
            SELECT policy, state, path, message, disagreements, requests, prompt_tokens, completion_tokens
            FROM synth_refinements WHERE job_id = ? ORDER BY rowid
            """, [job]) { row in
            StoredRefinement(policy: try row.value(0), state: try row.value(1), path: try row.value(2), message: try row.value(3),
                             disagreements: try row.value(4), requests: try row.value(5), promptTokens: try row.value(6),
                             completionTokens: try row.value(7))
        }
    }

    /// A batch's task row: done by `worker`.
    func completeSynthesisTask(_ id: String, worker: String, elapsedMs: UInt64, completedMs: UInt64) throws {
        try db.execute("UPDATE tasks SET state = 'done', worker_id = ?, elapsed_ms = ?, completed_ms = ? WHERE id = ?",
                       [worker, try StoredInteger.signed(elapsedMs, "tasks.elapsed_ms"), try StoredInteger.signed(completedMs, "tasks.completed_ms"), id])
    }

    func cancelSynthesisBatches(job: String) throws {
        try db.execute("UPDATE synth_batches SET state = 'cancelled' WHERE job_id = ? AND state = 'issued'", [job])
    }

    func loadSynthesisBatches(job: String) throws -> [StoredSynthesisBatch] {
        try db.map("""
            SELECT batch, policy, label, sequence, count, state, commit_seq, worker_id, generated, accepted, duplicates, surplus,
                   relabelled, dropped, requests, prompt_tokens, completion_tokens, retries, near_duplicates
            FROM synth_batches WHERE job_id = ? ORDER BY batch
            """, [job]) { row in
            var b = StoredSynthesisBatch(batch: try row.value(0), policy: try row.value(1), label: try row.value(2),
                                         sequence: try row.value(3), count: try row.value(4), state: try row.value(5))
            if let seq: Int = try row.value(6) {
                b.outcome = SynthesisBatchOutcome(
                    commitSeq: seq, worker: try row.value(7) ?? "", generated: try row.value(8), accepted: try row.value(9),
                    duplicates: try row.value(10), surplus: try row.value(11), relabelled: try row.value(12), dropped: try row.value(13),
                    requests: try row.value(14), promptTokens: try row.value(15), completionTokens: try row.value(16), retries: try row.value(17))
                b.outcome?.nearDuplicates = try row.value(18)
            }
            return b
        }
    }

    /// Every accepted sample line of a job in output order, with its policy and label.
    func loadSynthesisSamples(job: String) throws -> [(policy: String, label: String, line: String)] {
        try db.map("SELECT policy, label, line FROM synth_samples WHERE job_id = ? ORDER BY commit_seq, position", [job]) { row in
            (try row.value(0), try row.value(1), try row.value(2))
        }
    }
}
