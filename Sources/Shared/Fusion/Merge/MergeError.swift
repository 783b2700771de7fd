import Foundation

/// Errors from reading a merge config or merging models; each names the file, key or tensor and what to do.
public enum MergeError: Error, CustomStringConvertible, Equatable {
    /// The YAML config is malformed or a key has the wrong type; `key` is a dotted path like `models[1].parameters.weight`.
    case badConfig(file: String, key: String, reason: String)
    /// A model directory is missing or lacks a file the merge needs.
    case badModel(path: String, reason: String)
    /// Two inputs cannot be merged (different tensors, shapes, vocabulary or architecture).
    case incompatible(model: String, reference: String, reason: String)
    /// A merge parameter has an unusable value for one tensor.
    case badParameter(name: String, tensor: String, reason: String)
    /// Writing the output directory failed.
    case output(path: String, reason: String)

    public var description: String {
        switch self {
        case .badConfig(let f, let k, let r): return "\(f): key '\(k)': \(r)"
        case .badModel(let p, let r): return "model '\(p)': \(r)"
        case .incompatible(let m, let ref, let r):
            return "model '\(m)' cannot be merged with '\(ref)': \(r); merge only fine-tunes of the same base model"
        case .badParameter(let n, let t, let r): return "parameter '\(n)' for tensor '\(t)': \(r)"
        case .output(let p, let r): return "output '\(p)': \(r)"
        }
    }
}
