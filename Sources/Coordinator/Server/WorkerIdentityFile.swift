import Foundation

/// Persists the worker id → CURVE key bindings beside the database (`<database>.worker-keys.json`), so a
/// restarted coordinator still refuses a key registering an id another key owns.
struct WorkerIdentityFile {
    let path: String

    init(databasePath: String) { path = databasePath + ".worker-keys.json" }

    func load() throws -> WorkerIdentity {
        guard let data = FileManager.default.contents(atPath: path) else { return WorkerIdentity() }
        return try JSONDecoder().decode(WorkerIdentity.self, from: data)
    }

    /// Written whole (temp file + rename), so a crash leaves the old or the new bindings, never half.
    func save(_ identity: WorkerIdentity) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(identity).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
