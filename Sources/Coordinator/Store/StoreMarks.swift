import Foundation

/// What the coordinator must never forget even when its database does, kept outside the database in
/// `<database>.marks` (JSON): the highest job number ever issued, and every job that reached a terminal state.
///
/// A store that went back in time (a deleted or damaged WAL, an older copy restored) then cannot make the
/// coordinator reuse a job id, whose default export directory `exports/job-N/best` belongs to the earlier job,
/// nor resume a finished job as if it were still running (issue 11 item 6).
struct StoreMarks: Codable, Equatable {
    /// A job's terminal state as it was committed.
    struct TerminalJob: Codable, Equatable {
        var state: JobState
        var finishedMs: UInt64?
        var exportPath: String?
        var message: String?
        /// Arms with all their shards evaluated when the job ended.
        var armsDone: Int

        enum CodingKeys: String, CodingKey {
            case state, message
            case finishedMs = "finished_unix_ms", exportPath = "export_path", armsDone = "arms_done"
        }

        /// "done with 4 arms done, finished at 1700000000000 ms, exported to X" for the log.
        var summary: String {
            var text = "\(state.rawValue) with \(armsDone) arms done"
            if let finishedMs { text += ", finished at \(finishedMs) (Unix ms)" }
            if let exportPath { text += ", exported to \(exportPath)" }
            return text
        }
    }

    var version = 1
    /// Highest job number ever issued (raised before the id is used).
    var highestJobSeq = 0
    /// Job id → its terminal state; a job enters once, when it reaches done, cancelled or failed.
    var terminalJobs: [String: TerminalJob] = [:]

    enum CodingKeys: String, CodingKey {
        case version
        case highestJobSeq = "highest_job_seq", terminalJobs = "terminal_jobs"
    }
}

/// Reads and writes `<database>.marks`; also reads `<database>.jobseq`, the bare high-water mark written before
/// job states were recorded, which the first write replaces.
struct StoreMarksFile {
    let path: String
    let legacyPath: String

    init(databasePath: String) {
        path = databasePath + ".marks"
        legacyPath = databasePath + ".jobseq"
    }

    var hasLegacyMark: Bool { FileManager.default.fileExists(atPath: legacyPath) }

    /// The marks, empty when there are none yet.
    func read() throws -> StoreMarks {
        var marks = StoreMarks()
        if FileManager.default.fileExists(atPath: path) {
            do {
                marks = try JSONDecoder().decode(StoreMarks.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            } catch let error as DecodingError {
                throw StoreError.badMarks(path: path, reason: Self.reason(error))
            } catch {
                throw StoreError.badMarks(path: path, reason: error.localizedDescription)
            }
            if marks.highestJobSeq < 0 { throw StoreError.badMarks(path: path, reason: "highest_job_seq is negative") }
            if let bad = marks.terminalJobs.first(where: { !$0.value.state.isTerminal || $0.value.armsDone < 0 }) {
                throw StoreError.badMarks(path: path, reason: "\(bad.key) is recorded as \(bad.value.state.rawValue) with \(bad.value.armsDone) arms done")
            }
        }
        if hasLegacyMark { marks.highestJobSeq = max(marks.highestJobSeq, try readLegacy()) }
        return marks
    }

    /// Replaces the file atomically and durably (see `DurableFile`); the legacy mark is then superseded.
    func write(_ marks: StoreMarks) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try DurableFile.replace(path, with: encoder.encode(marks) + Data("\n".utf8))
        if hasLegacyMark { try? FileManager.default.removeItem(atPath: legacyPath) }
    }

    private func readLegacy() throws -> Int {
        let text: String
        do { text = try String(contentsOfFile: legacyPath, encoding: .utf8) } catch {
            throw StoreError.badSequenceMark(path: legacyPath, reason: "\(error.localizedDescription)")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let seq = Int(trimmed), seq >= 0 else {
            throw StoreError.badSequenceMark(path: legacyPath, reason: "not a job number: \(trimmed.prefix(40).debugDescription)")
        }
        return seq
    }

    /// A decoding error in one line: what is wrong, and where.
    private static func reason(_ error: DecodingError) -> String {
        func place(_ context: DecodingError.Context) -> String {
            let at = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return at.isEmpty ? "" : "at \(at): "
        }
        switch error {
        case .keyNotFound(let key, let context): return place(context) + "no \(key.stringValue.debugDescription)"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return place(context) + "expected \(type)"
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as NSError?).map { ": \($0.localizedDescription)" } ?? ""
            return place(context) + context.debugDescription + underlying
        @unknown default: return "\(error)"
        }
    }
}
