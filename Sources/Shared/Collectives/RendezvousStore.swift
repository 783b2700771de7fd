import CGloo
import Foundation

/// Key/values a rendezvous publishes addresses to and waits on. The coordinator will back one with its own
/// key/value messages; tests back one with a dictionary. Called from the threads that run rendezvous,
/// concurrently when several ranks of one process share it, so implementations must be thread-safe.
public protocol RendezvousKeyValueStore: Sendable {
    func set(_ key: String, _ value: [UInt8]) throws
    /// The value of `key`, waiting for it up to `timeout`.
    func get(_ key: String, timeout: Duration) throws -> [UInt8]
    /// Returns once every key exists; throws `CollectiveError.rendezvousTimeout` after `timeout`.
    func wait(for keys: [String], timeout: Duration) throws
}

/// Where a group's ranks meet: a description, so each rank builds its own Gloo store from it (a Gloo
/// `FileStore` is not safe to share between threads). `prefixed` puts a group's keys under a namespace, e.g.
/// one per generation, so a new membership never reads the addresses of the last.
public struct RendezvousStore: Sendable {
    enum Backing: Sendable {
        case directory(String)
        case keyValue(any RendezvousKeyValueStore)
    }

    let backing: Backing
    public let prefix: String?

    /// Gloo's `FileStore`: one file per key under `directory` (created if missing). Tests and one machine
    /// (or a shared file system).
    public static func directory(_ path: String) -> RendezvousStore {
        RendezvousStore(backing: .directory(path), prefix: nil)
    }

    /// A Gloo store whose set/get/wait call `store` (through C function pointers in the shim).
    public static func keyValue(_ store: any RendezvousKeyValueStore) -> RendezvousStore {
        RendezvousStore(backing: .keyValue(store), prefix: nil)
    }

    /// The same store with every key under `prefix/` (nested prefixes join with `/`).
    public func prefixed(_ prefix: String) -> RendezvousStore {
        RendezvousStore(backing: backing, prefix: self.prefix.map { "\($0)/\(prefix)" } ?? prefix)
    }

    /// A new shim store; the caller destroys it with `cgloo_store_destroy`.
    func makeShimStore() throws(CollectiveError) -> OpaquePointer {
        var error = cgloo_error()
        let base: OpaquePointer?
        switch backing {
        case .directory(let path):
            base = cgloo_store_create_file(path, &error)
        case .keyValue(let store):
            base = cgloo_store_create_callbacks(KeyValueBridge.callbacks(for: store), &error)
        }
        guard let base else { throw CollectiveError(error, context: "") }
        guard let prefix else { return base }
        defer { cgloo_store_destroy(base) }  // the prefixed store keeps what it needs of the base
        guard let prefixed = cgloo_store_create_prefixed(base, prefix, &error) else {
            throw CollectiveError(error, context: "")
        }
        return prefixed
    }
}

/// The C callbacks of a key/value store: `user` is a retained box, released by the shim's `release`.
enum KeyValueBridge {
    final class Box: Sendable {
        let store: any RendezvousKeyValueStore
        init(_ store: any RendezvousKeyValueStore) { self.store = store }
    }

    static func callbacks(for store: any RendezvousKeyValueStore) -> cgloo_store_callbacks {
        var callbacks = cgloo_store_callbacks()
        callbacks.user = Unmanaged.passRetained(Box(store)).toOpaque()
        callbacks.set = { user, key, data, count, message in
            KeyValueBridge.run(message) {
                let bytes = count == 0 ? [] : Array(UnsafeRawBufferPointer(start: data, count: count))
                try KeyValueBridge.store(user).set(String(cString: key!), bytes)
            }
        }
        callbacks.get = { user, key, timeoutMilliseconds, value, message in
            KeyValueBridge.run(message) {
                let bytes = try KeyValueBridge.store(user).get(String(cString: key!), timeout: .milliseconds(timeoutMilliseconds))
                bytes.withUnsafeBytes { cgloo_bytes_assign(value, $0.baseAddress, $0.count) }
            }
        }
        callbacks.wait = { user, keys, count, timeoutMilliseconds, message in
            KeyValueBridge.run(message) {
                let names = (0..<count).map { String(cString: keys![$0]!) }
                try KeyValueBridge.store(user).wait(for: names, timeout: .milliseconds(timeoutMilliseconds))
            }
        }
        callbacks.release = { user in
            Unmanaged<Box>.fromOpaque(user!).release()
        }
        return callbacks
    }

    static func store(_ user: UnsafeMutableRawPointer?) -> any RendezvousKeyValueStore {
        Unmanaged<Box>.fromOpaque(user!).takeUnretainedValue().store
    }

    /// Runs a callback body: a `rendezvousTimeout` or `timeout` becomes the timeout result, anything else a
    /// failure, each with its description in `message`.
    static func run(_ message: OpaquePointer?, _ body: () throws -> Void) -> Int32 {
        do {
            try body()
            return Int32(CGLOO_STORE_CALLBACK_OK.rawValue)
        } catch {
            let text = (error as? CollectiveError)?.message ?? String(describing: error)
            Array(text.utf8).withUnsafeBytes { cgloo_bytes_assign(message, $0.baseAddress, $0.count) }
            switch error as? CollectiveError {
            case .rendezvousTimeout?, .timeout?: return Int32(CGLOO_STORE_CALLBACK_TIMEOUT.rawValue)
            default: return Int32(CGLOO_STORE_CALLBACK_FAILED.rawValue)
            }
        }
    }
}
