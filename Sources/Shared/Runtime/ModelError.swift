/// Errors loading or using a model directory; each names the file or field and what to do.
public enum ModelError: Error, CustomStringConvertible {
    case missingFile(path: String, hint: String)
    case badConfig(path: String, field: String, reason: String)
    case incompatible(String)
    case badInput(String)

    public var description: String {
        switch self {
        case .missingFile(let p, let h): return "\(p): file not found; \(h)"
        case .badConfig(let p, let f, let r): return "\(p): field '\(f)': \(r)"
        case .incompatible(let m): return m
        case .badInput(let m): return m
        }
    }
}
