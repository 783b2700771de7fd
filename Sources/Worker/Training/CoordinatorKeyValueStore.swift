import Cluster
import Collectives
import Foundation

/// A Gloo rendezvous store backed by the coordinator's key/values (KeyValueRequest through the daemon's
/// socket). A get of a key not yet set answers found = false at once: the store asks again every `pollInterval`
/// until the caller's timeout, so no request sits at the coordinator. Used from the training thread (and any
/// thread Gloo calls back on): everything goes through the thread-safe bridge.
struct CoordinatorKeyValueStore: RendezvousKeyValueStore {
    let bridge: CoordinatorBridge
    let jobID: String
    /// The task holding the lease: the coordinator accepts keys only from it, under its rendezvous prefix.
    let taskID: String
    /// A cancelled task stops waiting for peers at once.
    let isCancelled: @Sendable () -> Bool
    var pollInterval: Duration = .milliseconds(20)
    /// How long one set may take (a coordinator restart in between is retried until then).
    var setTimeout: Duration = .seconds(30)

    func set(_ key: String, _ value: [UInt8]) throws {
        guard value.count <= 64 << 10 else {
            throw CollectiveError.storeFailed("value of \(key) is \(value.count) bytes; the coordinator keeps at most 64 KiB")
        }
        _ = try exchange(key: key, set: true, value: value, deadline: .now + setTimeout)
    }

    func get(_ key: String, timeout: Duration) throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let reply = try exchange(key: key, set: false, value: [], deadline: deadline), reply.found {
                return Array(reply.value)
            }
            guard ContinuousClock.now + pollInterval < deadline else {
                throw CollectiveError.rendezvousTimeout("key \(key) was not published within \(timeout) (a peer of \(taskID) did not show up)")
            }
            Thread.sleep(forTimeInterval: Double(pollInterval.components.attoseconds) * 1e-18 + Double(pollInterval.components.seconds))
        }
    }

    func wait(for keys: [String], timeout: Duration) throws {
        let deadline = ContinuousClock.now + timeout
        for key in keys { _ = try get(key, timeout: max(deadline - .now, .milliseconds(1))) }
    }

    /// One request, repeated after a lost connection until `deadline`; nil when the deadline passed unanswered.
    private func exchange(key: String, set: Bool, value: [UInt8], deadline: ContinuousClock.Instant) throws -> Uniguard_V1_KeyValueReply? {
        var request = Uniguard_V1_KeyValueRequest()
        request.taskID = taskID
        request.key = key
        request.set = set
        request.value = Data(value)
        while ContinuousClock.now < deadline {
            if isCancelled() { throw CollectiveError.storeFailed("\(taskID) was cancelled during the rendezvous") }
            let ticket = bridge.request(.keyValueRequest(request), jobID: jobID)
            // A reply lost with a coordinator restart is asked for again after a short wait.
            switch ticket.wait(timeout: min(deadline - .now, .seconds(2))) {
            case nil:
                break
            case .failed?:
                Thread.sleep(forTimeInterval: 0.05)  // reconnecting: ask again
                continue
            case .reply(let message)?:
                switch message.payload {
                case .keyValueReply(let reply)?:
                    return reply
                case .error(let error)?:
                    throw CollectiveError.storeFailed("coordinator refused key \(key) of \(taskID): \(error.code) \(error.message)")
                default:
                    throw CollectiveError.storeFailed("unexpected answer to key \(key): \(String(describing: message.payload))")
                }
            }
        }
        if set { throw CollectiveError.rendezvousTimeout("the coordinator did not store key \(key) in time") }
        return nil
    }
}
