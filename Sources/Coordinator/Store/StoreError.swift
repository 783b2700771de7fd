/// A store failure that is not SQLite's own: bad stored values, an unusable file, a failed benchmark check.
enum StoreError: Error, CustomStringConvertible {
    case benchmark(String)

    var description: String {
        switch self {
        case .benchmark(let reason): "store benchmark: \(reason)"
        }
    }
}
