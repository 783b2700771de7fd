import Cluster
import Foundation

/// Schema 1 → 2: jobs prepared before merge search became one concept stored a job spec with one `strategy`
/// and the ranking results inside it. Their JSON is rewritten in place to `MergeSearchSpec` +
/// `CandidateRanking`, so a coordinator upgraded with jobs in its database still starts and resumes them.
enum PreparedJobMigration {
    static func upgradeJobs(_ db: SQLiteDatabase) throws {
        try db.transaction {
            for row in try db.query("SELECT id, prepared_json FROM jobs") {
                guard let id = row[0].string else { continue }
                try db.run("UPDATE jobs SET prepared_json = ? WHERE id = ?", [.text(try upgrade(row[1].string ?? "")), .text(id)])
            }
            try db.run("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        }
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
