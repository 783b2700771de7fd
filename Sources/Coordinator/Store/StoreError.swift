/// A store failure that is not a failed statement: an unusable file, a value SQLite cannot hold, a broken mark.
enum StoreError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    /// An unsigned value beyond SQLite's signed 64-bit INTEGER (or a negative one read back).
    case outOfRange(column: String, value: String)
    case badSequenceMark(path: String, reason: String)
    case badMarks(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case busy(String)
    case benchmark(String)

    var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open the coordinator database \(path): \(reason)"
        case .outOfRange(let column, let value): "\(column) = \(value) is outside 0...\(Int64.max); not stored"
        case .badSequenceMark(let path, let reason):
            "job id high-water mark \(path) is unreadable (\(reason)); fix or delete it to number jobs from the database alone"
        case .badMarks(let path, let reason):
            "store marks \(path) are unreadable (\(reason)); they record issued job ids and finished jobs so a store that went back in time is caught: fix the file, or move it aside to trust the database alone"
        case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
        case .busy(let reason): "store busy: \(reason)"
        case .benchmark(let reason): "store benchmark: \(reason)"
        }
    }
}
