/// Why a task result does not count: it is not the current lease holder's result for the current attempt.
public enum ResultRejection: Equatable, Sendable, CustomStringConvertible {
    /// The task is waiting in the queue: nobody was given it, so nobody can have a result.
    case notLeased
    /// Another worker holds the lease.
    case notHolder(holder: String)
    /// The lease was granted again since (e.g. it expired): the result is from an older attempt.
    case staleAttempt(current: Int)
    /// The task already has a counted result from another worker or attempt.
    case alreadyDone

    public var description: String {
        switch self {
        case .notLeased: "the task is not leased to anyone"
        case .notHolder(let holder): "the task is leased to \(holder.isEmpty ? "another worker" : holder)"
        case .staleAttempt(let current): "the lease was granted again since (current attempt \(current))"
        case .alreadyDone: "the task already has a result from another worker or attempt"
        }
    }
}
