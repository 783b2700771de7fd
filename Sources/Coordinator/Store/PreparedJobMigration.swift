import Cluster
import Foundation
import GRDB

/// Schema 1 → 2: jobs prepared before merge search became one concept stored a job spec with one `strategy`
/// and the ranking results inside it. Their JSON is rewritten in place to `MergeSearchSpec` +
/// `CandidateRanking`, so a coordinator upgraded with jobs in its database still starts and resumes them.
enum PreparedJobMigration {
    /// Runs inside the migrator's transaction.
    static func upgradeJobs(_ db: Database) throws {
        if try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'schema_version'") == "1" {
            for row in try Row.fetchAll(db, sql: "SELECT id, prepared_json FROM jobs") {
                let id: String = try row.value(0)
                let text: String? = try row.value(1)
                try db.execute(sql: "UPDATE jobs SET prepared_json = ? WHERE id = ?", arguments: [try upgrade(text ?? ""), id])
            }
        }
        try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', '2')")
    }

    /// One prepared job's JSON in the schema 2 shape (unchanged if it already is).
    static func upgrade(_ text: String) throws -> String {
        guard var prepared = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              var spec = prepared["spec"] as? [String: Any]
        else { throw JobSpecError(source: "database", key: "prepared_json", reason: "not a prepared merge search: \(text.prefix(120))") }
        guard prepared["ranking"] == nil else { return text }
        // Schema 1 replaced the spec's candidates by the ranked top k at submission: they are what was searched.
        var ranking: [String: Any] = ["scores": spec.removeValue(forKey: "ranking") ?? [Any](), "kept": spec["candidates"] ?? [Any](),
                                      "instructionCount": spec.removeValue(forKey: "instructionCount") ?? 1, "sampleCount": 0]
        ranking["policy"] = spec["policy"]
        prepared["ranking"] = ranking
        spec["strategies"] = [spec.removeValue(forKey: "strategy") ?? "thompson"]
        if spec["topK"] == nil { spec["topK"] = 3 }
        prepared["spec"] = spec
        let data = try JSONSerialization.data(withJSONObject: prepared, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
