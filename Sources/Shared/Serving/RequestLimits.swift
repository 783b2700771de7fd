/// What one request may carry; larger bodies and inputs are refused with 413 before any work is done.
public struct RequestLimits: Sendable {
    /// Largest request body in bytes.
    public var maxBodyBytes: Int
    /// Most inputs (strings) in one request.
    public var maxInputs: Int
    /// Longest single input in UTF-8 bytes (the model reads at most max_length tokens of it anyway).
    public var maxInputBytes: Int

    public init(maxBodyBytes: Int = 1 << 20, maxInputs: Int = 256, maxInputBytes: Int = 32 << 10) {
        self.maxBodyBytes = maxBodyBytes; self.maxInputs = maxInputs; self.maxInputBytes = maxInputBytes
    }
}
