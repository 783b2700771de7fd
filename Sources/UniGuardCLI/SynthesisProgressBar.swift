import Foundation
import Synthesis

/// Synthesis progress on stderr: a redrawn bar with ETA on a terminal, a line every few seconds otherwise.
final class SynthesisProgressBar: @unchecked Sendable {
    // @unchecked: updated only from the run's task, one commit at a time.
    private let isTTY = isatty(STDERR_FILENO) == 1
    private var lastPlain = Date.distantPast
    private var drawn = false
    /// Seconds between plain lines (UNIGUARD_PROGRESS_SECONDS overrides it, e.g. for tests).
    private let interval = ProcessInfo.processInfo.environment["UNIGUARD_PROGRESS_SECONDS"].flatMap(Double.init) ?? 10

    func update(_ p: SynthesisProgress) {
        let tokens = p.usage.totalTokens >= 10_000 ? String(format: "%.1fk", Double(p.usage.totalTokens) / 1000) : "\(p.usage.totalTokens)"
        let retries = p.usage.rateLimited + p.usage.serverErrors + p.usage.transportErrors + p.usage.malformedReplies
        let text = "\(p.accepted)/\(p.target) samples  \(p.usage.requests) requests  \(tokens) tokens  \(retries) retried  ETA \(p.eta.map(ProgressDisplay.duration) ?? "?")"
        if isTTY {
            let width = 24, filled = min(width, Int(Double(p.accepted) / Double(max(1, p.target)) * Double(width)))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(text)".utf8))
            drawn = true
        } else if Date().timeIntervalSince(lastPlain) >= interval || p.accepted >= p.target {
            lastPlain = Date()
            note("synthesize: \(text)")
        }
    }

    func finish() { if drawn { FileHandle.standardError.write(Data("\n".utf8)) } }
}
