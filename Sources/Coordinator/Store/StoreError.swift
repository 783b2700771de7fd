/// A store failure that is not a failed statement: an unusable file, a value SQLite cannot hold, a broken mark.
enum StoreError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    /// An unsigned value beyond SQLite's signed 64-bit INTEGER (or a negative one read back).
    case outOfRange(column: String, value: String)
    case badSequenceMark(path: String, reason: String)
    case busy(String)
    case benchmark(String)

    var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open the coordinator database \(path): \(reason)"
        case .outOfRange(let column, let value): "\(column) = \(value) is outside 0...\(Int64.max); not stored"
        case .badSequenceMark(let path, let reason):
            "job id high-water mark \(path) is unreadable (\(reason)); fix or delete it to number jobs from the database alone"
        case .busy(let reason): "store busy: \(reason)"
        case .benchmark(let reason): "store benchmark: \(reason)"
        }
    }
}
