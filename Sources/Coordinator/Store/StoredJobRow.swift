import Cluster
import Foundation
import GRDB

/// A job row whose preparation is stored as JSON (training and synthesize jobs): one shape, one writer, one reader.
struct StoredJobRow<Prepared: Codable> {
    var id: String
    var specYAML: String
    var prepared: Prepared
    var state: JobState
    var submitter: String
    var createdMs: UInt64
    var finishedMs: UInt64?
    var exportPath: String?
    var message: String?
}

/// A training job row (kind pretrain or finetune).
typealias StoredTrainingJob = StoredJobRow<PreparedTraining>
/// A synthesize job row (kind synthesize).
typealias StoredSynthesisJob = StoredJobRow<PreparedSynthesis>

extension JobStore {
    func insertJobRow<P>(_ job: StoredJobRow<P>, kind: String, seq: Int) throws {
        try db.execute("""
            INSERT INTO jobs(id, seq, kind, spec_yaml, prepared_json, state, submitter, created_ms, search_json)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?, '{}')
            """, [job.id, seq, kind, job.specYAML, try Self.json(job.prepared), job.state.rawValue, job.submitter,
                  try StoredInteger.signed(job.createdMs, "jobs.created_ms")])
    }

    /// The jobs of the given kinds, oldest first.
    func loadJobRows<P>(kinds: [String]) throws -> [StoredJobRow<P>] {
        let placeholders = Array(repeating: "?", count: kinds.count).joined(separator: ", ")
        return try db.map("""
            SELECT id, spec_yaml, prepared_json, state, submitter, created_ms, finished_ms, export_path, message
            FROM jobs WHERE kind IN (\(placeholders)) ORDER BY seq
            """, StatementArguments(kinds)) { row in
            StoredJobRow(id: try row.value(0), specYAML: try row.value(1), prepared: try Self.decode(P.self, try row.value(2)),
                         state: JobState(rawValue: try row.value(3)) ?? .failed, submitter: try row.value(4),
                         createdMs: try row.unsigned(5, "jobs.created_ms"),
                         finishedMs: try row.unsignedIfPresent(6, "jobs.finished_ms"), exportPath: try row.value(7),
                         message: try row.value(8))
        }
    }
}
