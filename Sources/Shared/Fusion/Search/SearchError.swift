/// Errors from the merge search engine; each says what was wrong and what to do.
public enum SearchError: Error, CustomStringConvertible, Equatable {
    case badSpace(String)
    case unknownArm(ArmID)
    case badReward(ArmID, Double)
    case badState(String)
    /// The validation file holds no samples of the searched policy.
    case noValidationData(String)

    public var description: String {
        switch self {
        case .badSpace(let r): return "merge search space: \(r)"
        case .unknownArm(let id): return "arm \(id) was never handed out or its result was already reported"
        case .badReward(let id, let f1): return "arm \(id): F1 \(f1) is not a number in [0, 1]"
        case .badState(let r): return "merge search state: \(r)"
        case .noValidationData(let r): return r
        }
    }
}
