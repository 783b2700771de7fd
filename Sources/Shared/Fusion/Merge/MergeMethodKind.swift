/// The merge algorithms, named exactly as mergekit's `merge_method` values.
public enum MergeMethodKind: String, Codable, Sendable, CaseIterable, Hashable {
    case linear
    case taskArithmetic = "task_arithmetic"
    case ties
    case dareLinear = "dare_linear"
    case dareTies = "dare_ties"
    case slerp
    case breadcrumbs
    case breadcrumbsTies = "breadcrumbs_ties"

    /// Methods that add weighted task vectors (model - base) to a base model.
    public var usesTaskVectors: Bool {
        switch self {
        case .linear, .slerp: return false
        default: return true
        }
    }

    /// Methods that elect a sign per element and drop disagreeing deltas (TIES consensus, "sum" rule).
    public var usesSignConsensus: Bool {
        switch self {
        case .ties, .dareTies, .breadcrumbsTies: return true
        default: return false
        }
    }

    /// How task vectors are thinned before mixing.
    public var sparsification: Sparsification {
        switch self {
        case .linear, .slerp, .taskArithmetic: return .none
        case .ties: return .magnitude
        case .dareLinear, .dareTies: return .random
        case .breadcrumbs, .breadcrumbsTies: return .magnitudeOutliers
        }
    }

    /// mergekit's default for `normalize` (divide by the sum of weights).
    public var defaultNormalize: Bool {
        switch self {
        case .linear, .ties: return true
        default: return false
        }
    }

    /// The method needs a `base_model`.
    public var requiresBaseModel: Bool { usesTaskVectors || self == .slerp }

    /// Thinning applied to each task vector before mixing.
    public enum Sparsification: Sendable {
        case none
        /// Keep the top `density` fraction by magnitude (TIES).
        case magnitude
        /// Keep each element with probability `density` (DARE).
        case random
        /// Drop the top `gamma` fraction, then the smallest, to keep `density` (Model Breadcrumbs).
        case magnitudeOutliers
    }
}
