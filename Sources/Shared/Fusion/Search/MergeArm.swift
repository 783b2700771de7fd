/// Identifies one arm handed out by a search, so its result can come back later and out of order.
public struct ArmID: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: Int
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(Int.self) }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
    public static func < (a: ArmID, b: ArmID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "#\(rawValue)" }
}

/// One merge to try: method, per-candidate weights (sum 1), parameter subset, method parameters, and, when
/// candidates were trained with different instructions, which instruction to use at inference (paper A.5.1).
public struct MergeArm: Codable, Sendable, Hashable {
    public let id: ArmID
    public var method: MergeMethodKind
    /// Aligned with `SearchSpace.candidates`.
    public var weights: [Double]
    public var subset: ParameterSubset
    /// Index into the space's instructions; nil when there is only one.
    public var instruction: Int?
    /// Method parameters (density, gamma, lambda, t) from the space.
    public var parameters: [String: Double]

    public init(id: ArmID, method: MergeMethodKind, weights: [Double], subset: ParameterSubset,
                instruction: Int? = nil, parameters: [String: Double] = [:]) {
        self.id = id
        self.method = method
        self.weights = weights
        self.subset = subset
        self.instruction = instruction
        self.parameters = parameters
    }
}
