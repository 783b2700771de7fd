import Foundation

/// Which connection and which CURVE key may speak for a worker id, as pure bookkeeping.
///
/// Why: worker ids are chosen by workers. Without a binding, a second connection registering a live worker's id
/// took over its membership and requeued its leases, and with CURVE one admitted key could register under
/// another worker's id. So a live id stays with its connection until it leaves or dies, and under CURVE an id
/// belongs to the first key that registered it (the bindings are persisted with the coordinator's state).
public struct WorkerIdentity: Codable, Sendable, Equatable {
    /// Worker id → Z85 public key of the first CURVE client that registered it.
    public private(set) var keys: [String: String] = [:]

    public init(keys: [String: String] = [:]) { self.keys = keys }

    /// Why a registration is refused.
    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        /// The id is registered and alive on another connection.
        case liveElsewhere(id: String)
        /// The id is bound to another CURVE key.
        case boundToOtherKey(id: String)

        public var description: String {
            switch self {
            case .liveElsewhere(let id):
                "worker id '\(id)' is already registered on another live connection; choose another id (--id)"
            case .boundToOtherKey(let id):
                "worker id '\(id)' belongs to another CURVE key; this key may not register it"
            }
        }
    }

    /// Checks a registration of `id` from connection `routingID` (CURVE key `key`, nil without CURVE) against the
    /// live members; on success binds the id to the key if it had none. Returns true when a new binding was made.
    public mutating func admit(id: String, routingID: Data, key: String?, members: Membership) throws(Refusal) -> Bool {
        if let live = members.member(id), live.routingID != routingID { throw .liveElsewhere(id: id) }
        guard let key else { return false }
        if let bound = keys[id] {
            guard bound == key else { throw .boundToOtherKey(id: id) }
            return false
        }
        keys[id] = key
        return true
    }

    /// Whether a message from a registered worker comes with the key its id is bound to (always true without CURVE).
    public func matches(id: String, key: String?) -> Bool {
        guard let bound = keys[id] else { return true }
        return bound == key
    }
}
