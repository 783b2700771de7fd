import Collectives
import Foundation

/// A rendezvous key/value store in memory: a dictionary and a condition variable, standing in for the
/// coordinator's key/values in tests. Counts its calls so tests can see the callbacks were used.
final class DictionaryStore: RendezvousKeyValueStore, @unchecked Sendable {
    // @unchecked: every access to `values` and `calls` holds `condition`'s lock.
    private let condition = NSCondition()
    private var values: [String: [UInt8]] = [:]
    private var calls = 0
    /// When set, `set` throws this, to exercise the store-failure path.
    let failSets: Bool

    init(failSets: Bool = false) { self.failSets = failSets }

    var keys: [String] { condition.withLock { values.keys.sorted() } }
    var callCount: Int { condition.withLock { calls } }

    func set(_ key: String, _ value: [UInt8]) throws {
        struct Refused: Error, CustomStringConvertible { var description: String { "coordinator refused the key" } }
        if failSets { throw Refused() }
        condition.withLock {
            calls += 1
            values[key] = value
            condition.broadcast()
        }
    }

    func get(_ key: String, timeout: Duration) throws -> [UInt8] {
        try wait(for: [key], timeout: timeout)
        return condition.withLock {
            calls += 1
            return values[key]!
        }
    }

    func wait(for keys: [String], timeout: Duration) throws {
        let (seconds, attoseconds) = timeout.components
        let deadline = Date(timeIntervalSinceNow: Double(seconds) + Double(attoseconds) * 1e-18)
        condition.lock()
        defer { condition.unlock() }
        calls += 1
        while let missing = keys.first(where: { values[$0] == nil }) {
            if !condition.wait(until: deadline), keys.contains(where: { values[$0] == nil }) {
                throw CollectiveError.rendezvousTimeout("key '\(missing)' not set within \(timeout)")
            }
        }
    }
}
