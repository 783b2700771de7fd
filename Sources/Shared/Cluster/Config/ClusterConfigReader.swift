/// Maps a TOML document onto ClusterConfig: known tables and keys only, typed and range-checked.
struct ClusterConfigReader {
    let document: TOMLDocument
    private var config = ClusterConfig()

    init(_ document: TOMLDocument) { self.document = document }

    /// Table name → the keys it accepts; anything else is an error naming file:line and the key.
    static let schema: [String: Set<String>] = [
        "coordinator": ["endpoint", "connect"],
        "heartbeat": ["interval_ms", "liveness", "reconnect_initial_ms", "reconnect_max_ms"],
        "leases": ["timeout_ms"],
        "storage": ["database", "exports", "local_worker_cache", "advertise_shared_paths"],
        "curve": ["coordinator_secret_key", "allowed_worker_keys", "client_secret_key"],
        "limits": ["max_frame_bytes", "max_envelope_bytes", "send_queue", "blob_chunk_bytes"],
        "client": ["timeout_ms"],
        "metrics": ["listen"],
    ]

    mutating func read() throws(TOMLError) -> ClusterConfig {
        try checkKnownKeys()
        try string("coordinator", "endpoint") { (s: String) throws(TOMLError) in config.endpoint = try Self.endpoint(s) }
        try string("coordinator", "connect") { (s: String) throws(TOMLError) in config.connectEndpoint = try Self.endpoint(s) }

        try int("heartbeat", "interval_ms", 10...600_000) { config.heartbeatIntervalMs = $0 }
        try int("heartbeat", "liveness", 1...100) { config.liveness = $0 }
        try int("heartbeat", "reconnect_initial_ms", 1...600_000) { config.reconnectInitialMs = $0 }
        try int("heartbeat", "reconnect_max_ms", 1...3_600_000) { config.reconnectMaxMs = $0 }
        if config.reconnectMaxMs < config.reconnectInitialMs {
            let line = document.table("heartbeat")?.entries["reconnect_max_ms"]?.line ?? 0
            throw TOMLError(file: document.file, line: line, key: "heartbeat.reconnect_max_ms",
                            reason: "must be at least reconnect_initial_ms (\(config.reconnectInitialMs))")
        }

        try int("leases", "timeout_ms", 100...86_400_000) { config.leaseTimeoutMs = $0 }

        try string("storage", "database") { config.databasePath = $0 }
        try string("storage", "exports") { config.exportDirectory = $0 }
        try string("storage", "local_worker_cache") { config.localWorkerCache = $0 }
        try bool("storage", "advertise_shared_paths") { config.advertiseSharedPaths = $0 }

        try string("curve", "coordinator_secret_key") { config.coordinatorSecretKey = $0 }
        try strings("curve", "allowed_worker_keys") { config.allowedWorkerKeys = $0 }
        try string("curve", "client_secret_key") { config.clientSecretKey = $0 }
        if !config.allowedWorkerKeys.isEmpty, config.coordinatorSecretKey == nil {
            let line = document.table("curve")?.entries["allowed_worker_keys"]?.line ?? 0
            throw TOMLError(file: document.file, line: line, key: "curve.allowed_worker_keys",
                            reason: "needs curve.coordinator_secret_key: without it traffic is not encrypted")
        }

        try int("limits", "max_frame_bytes", 4096...(1 << 32)) { config.maxFrameBytes = $0 }
        try int("limits", "max_envelope_bytes", 1024...(1 << 30)) { config.maxEnvelopeBytes = $0 }
        try int("limits", "send_queue", 1...1_000_000) { config.sendQueue = $0 }
        try int("limits", "blob_chunk_bytes", 1024...(1 << 30)) { config.blobChunkBytes = $0 }
        if config.blobChunkBytes > config.maxFrameBytes {
            let line = document.table("limits")?.entries["blob_chunk_bytes"]?.line ?? 0
            throw TOMLError(file: document.file, line: line, key: "limits.blob_chunk_bytes",
                            reason: "must not exceed limits.max_frame_bytes (\(config.maxFrameBytes))")
        }

        try int("client", "timeout_ms", 10...3_600_000) { config.clientTimeoutMs = $0 }

        try string("metrics", "listen") { (s: String) throws(TOMLError) in config.metricsListen = try ListenAddress(parsing: s) }
        return config
    }

    private func checkKnownKeys() throws(TOMLError) {
        for table in document.tables {
            if table.name.isEmpty {
                if let key = table.keyOrder.first, let entry = table.entries[key] {
                    throw TOMLError(file: document.file, line: entry.line, key: key,
                                    reason: "keys must sit under a table: \(Self.tableList)")
                }
                continue
            }
            guard let known = Self.schema[table.name] else {
                throw TOMLError(file: document.file, line: table.line,
                                reason: "unknown table [\(table.name)]; known tables: \(Self.tableList)")
            }
            for key in table.keyOrder where !known.contains(key) {
                throw TOMLError(file: document.file, line: table.entries[key]!.line, key: "\(table.name).\(key)",
                                reason: "unknown key; [\(table.name)] accepts \(known.sorted().joined(separator: ", "))")
            }
        }
    }

    private static var tableList: String { schema.keys.sorted().map { "[\($0)]" }.joined(separator: ", ") }

    // MARK: Typed accessors: call `apply` only when the key is present and well-typed.

    private func entry(_ table: String, _ key: String) -> TOMLEntry? { document.table(table)?.entries[key] }

    private func mismatch(_ table: String, _ key: String, _ entry: TOMLEntry, _ expected: String) -> TOMLError {
        TOMLError(file: document.file, line: entry.line, key: "\(table).\(key)",
                  reason: "expected \(expected), found \(entry.value.typeName) \(entry.value)")
    }

    private func string(_ table: String, _ key: String,
                        _ apply: (String) throws(TOMLError) -> Void) throws(TOMLError) {
        guard let e = entry(table, key) else { return }
        guard case .string(let s) = e.value else { throw mismatch(table, key, e, "a string") }
        do { try apply(s) } catch let error {
            throw TOMLError(file: document.file, line: e.line, key: "\(table).\(key)", reason: error.reason)
        }
    }

    private func strings(_ table: String, _ key: String, _ apply: ([String]) -> Void) throws(TOMLError) {
        guard let e = entry(table, key) else { return }
        switch e.value {
        case .stringArray(let a): apply(a)
        case .string(let s): apply([s])
        default: throw mismatch(table, key, e, "an array of strings")
        }
    }

    private func int(_ table: String, _ key: String, _ range: ClosedRange<Int>,
                     _ apply: (Int) -> Void) throws(TOMLError) {
        guard let e = entry(table, key) else { return }
        guard case .integer(let i) = e.value else { throw mismatch(table, key, e, "an integer") }
        guard let value = Int(exactly: i), range.contains(value) else {
            throw TOMLError(file: document.file, line: e.line, key: "\(table).\(key)",
                            reason: "\(i) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        apply(value)
    }

    private func bool(_ table: String, _ key: String, _ apply: (Bool) -> Void) throws(TOMLError) {
        guard let e = entry(table, key) else { return }
        guard case .boolean(let b) = e.value else { throw mismatch(table, key, e, "true or false") }
        apply(b)
    }

    /// A ZeroMQ endpoint we can bind or connect: tcp://host:port, ipc://path or inproc://name.
    static func endpoint(_ text: String) throws(TOMLError) -> String {
        let schemes = ["tcp://", "ipc://", "inproc://"]
        guard let scheme = schemes.first(where: text.hasPrefix), text.count > scheme.count else {
            throw TOMLError(file: "", line: 0, reason: "'\(text)' is not an endpoint like tcp://*:5555 or ipc:///path")
        }
        if scheme == "tcp://" {
            let rest = text.dropFirst(scheme.count)
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
                  (0...65535).contains(port), colon != rest.startIndex
            else { throw TOMLError(file: "", line: 0, reason: "'\(text)' needs host:port, e.g. tcp://*:5555") }
        }
        return text
    }
}
