/// A model produced NaN or infinity for an input: `index` is its position in the batch scored.
public struct NonFiniteScore: Error, CustomStringConvertible, Sendable {
    public let index: Int
    public var description: String { "the model's score is not a number (NaN); its weights or this input are broken" }
}
