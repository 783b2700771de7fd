/// A sample line that cannot be used: names the file, the 1-based line and the field at fault.
public struct SampleError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The JSONL file.
    public let path: String
    /// 1-based line number; 0 when the whole file is at fault (cannot open, cannot write).
    public let line: Int
    /// The field at fault, or nil when the line as a whole is bad (not JSON, not an object).
    public let field: String?
    /// What is wrong, phrased so the fix is clear.
    public let problem: String

    public init(path: String, line: Int, field: String?, problem: String) {
        self.path = path
        self.line = line
        self.field = field
        self.problem = problem
    }

    public var description: String {
        let location = line > 0 ? "\(path):\(line)" : path
        if let field { return "\(location): field '\(field)': \(problem)" }
        return "\(location): \(problem)"
    }
}
