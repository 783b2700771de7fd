import Foundation

/// Errors loading a tokenizer; each names the file (or directory) and what is wrong with it.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// The file is missing or unreadable.
    case unreadable(path: String, reason: String)
    /// The file exists but its content is malformed or inconsistent.
    case invalid(path: String, reason: String)
    /// The file is well-formed but asks for something this tokenizer does not implement.
    case unsupported(path: String, reason: String)
    /// No tokenizer file UniGuard understands was found in a model directory.
    case noTokenizer(directory: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let p, let r): return "\(p): cannot read tokenizer file: \(r)"
        case .invalid(let p, let r): return "\(p): invalid tokenizer file: \(r)"
        case .unsupported(let p, let r): return "\(p): unsupported tokenizer: \(r)"
        case .noTokenizer(let d, let r): return "\(d): no usable tokenizer: \(r)"
        }
    }
}

extension TokenizerError: LocalizedError {
    public var errorDescription: String? { description }
}
