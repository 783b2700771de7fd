import Foundation

/// Progress and warnings of the data commands go to stderr, keeping stdout for results.
enum DataConsole {
    static func note(_ message: String) {
        FileHandle.standardError.write(Data(("uniguard: " + message + "\n").utf8))
    }
}
