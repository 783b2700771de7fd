import Foundation

/// The highest job number ever issued, kept outside the database in `<database>.jobseq`: a store that went back
/// in time (a deleted or damaged WAL, an older copy restored) cannot make the coordinator reuse a job id, whose
/// default export directory `exports/job-N/best` belongs to the earlier job.
struct JobSequenceMark {
    let path: String

    init(databasePath: String) { path = databasePath + ".jobseq" }

    /// The mark, or 0 when there is none yet.
    func read() throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw StoreError.badSequenceMark(path: path, reason: "\(error.localizedDescription)")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let seq = Int(trimmed), seq >= 0 else {
            throw StoreError.badSequenceMark(path: path, reason: "not a job number: \(trimmed.prefix(40).debugDescription)")
        }
        return seq
    }

    /// Replaces the mark atomically (a temporary file renamed over it): a crash leaves the old or the new one.
    func write(_ seq: Int) throws {
        try Data("\(seq)\n".utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
