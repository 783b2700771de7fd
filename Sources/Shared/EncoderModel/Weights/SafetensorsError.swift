import Foundation

/// Errors reading or writing safetensors files; each names the file and, where it applies, the tensor.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case truncated(path: String, reason: String)
    case badHeader(path: String, reason: String)
    case badTensor(path: String, tensor: String, reason: String)
    case missingTensor(path: String, tensor: String)
    case unsupportedDType(path: String, tensor: String, dtype: String)
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .unreadable(let p, let r): return "\(p): cannot read safetensors file: \(r)"
        case .truncated(let p, let r): return "\(p): truncated safetensors file: \(r); re-download or re-export the checkpoint"
        case .badHeader(let p, let r): return "\(p): corrupt safetensors header: \(r); the file is not a valid safetensors checkpoint"
        case .badTensor(let p, let t, let r): return "\(p): tensor '\(t)': \(r); the checkpoint is corrupt"
        case .missingTensor(let p, let t): return "\(p): tensor '\(t)' is missing; is this checkpoint for the same architecture as its config.json?"
        case .unsupportedDType(let p, let t, let d): return "\(p): tensor '\(t)' has dtype \(d), which UniGuard cannot convert to F32"
        case .shapeMismatch(let p, let t, let e, let f):
            return "\(p): tensor '\(t)' has shape \(f) but the model config expects \(e); the checkpoint does not match its config.json"
        }
    }
}
