import Foundation

/// A value guarded by a lock, for the little state the Wire layer shares across threads.
final class LockedBox<Value>: @unchecked Sendable {
    // @unchecked: every access to `stored` goes through `lock`.
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try lock.withLock { try body(&stored) }
    }
}
