import Foundation
import Training

/// Training progress on stderr: a redrawn bar on a terminal, plain periodic lines otherwise (logs, CI).
final class ProgressDisplay {
    private let isTTY = isatty(STDERR_FILENO) == 1
    private var lastPlain = Date.distantPast
    private let plainInterval: TimeInterval

    init(plainInterval: TimeInterval = 10) { self.plainInterval = plainInterval }

    func update(_ p: TrainingProgress) {
        let pct = Double(p.step) / Double(max(1, p.totalSteps))
        let text = String(format: "epoch %d/%d  step %d/%d  loss %.4f  %.1f samples/s  ETA %@",
                          p.epoch, p.epochs, p.step, p.totalSteps, p.loss, p.samplesPerSecond, Self.duration(p.etaSeconds))
        if isTTY {
            let width = 24, filled = Int(pct * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(text)".utf8))
            if p.step == p.totalSteps { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if Date().timeIntervalSince(lastPlain) >= plainInterval || p.step == p.totalSteps {
            lastPlain = Date()
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, t % 3600 / 60) : String(format: "%dm%02ds", t / 60, t % 60)
    }
}

/// Writes a line to stderr.
func note(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// Writes `uniguard: warning: <message>` to stderr: the run goes on, but the user should know.
func warn(_ message: String) { note("uniguard: warning: \(message)") }
