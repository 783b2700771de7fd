import Foundation
import Yams

/// Imports everyday chat openers from the `chatterbot-corpus==1.3.3` wheel (BSD-3-Clause):
/// `chatterbot_corpus/data/english/*.yml`, the first (user) turn of every conversation ("what is the
/// stock market", "do you like pizza"). Each becomes a `safe` sample under every policy, source
/// `chatterbot-corpus:<file>/<category>`: `health`, `money`, `politics`, `psychology` are
/// `sensitive-allowed` (general questions on topics a policy guards), `tech_support`, `coding` and
/// `computers` are `support`, the rest `everyday`. Openers shorter than two words are skipped.
public struct ChatterbotCorpusImporter: Sendable {
    /// The pinned wheel.
    public static let wheel = WheelSpec(name: "chatterbot-corpus", version: "1.3.3")
    static let folder = "chatterbot_corpus/data/english/"
    static let sensitive: Set<String> = ["health", "money", "politics", "psychology"]
    static let support: Set<String> = ["tech_support", "coding", "computers"]

    public init() {}

    /// Reads the wheel; `policies` are the ids each prompt is a safe sample for.
    public func run(wheelPath: String, policies: [String], log: (String) -> Void = { _ in }) throws -> ImportReport {
        let archive = try WheelArchive(path: wheelPath)
        let files = try archive.entries().filter { $0.hasPrefix(Self.folder) && $0.hasSuffix(".yml") }.sorted()
        guard !files.isEmpty else { throw ImportError.layoutChanged(wheel: wheelPath, detail: "no \(Self.folder)*.yml files in the wheel") }
        var report = ImportReport()
        for entry in files {
            let name = String(entry.dropFirst(Self.folder.count).dropLast(4))
            let category = Self.sensitive.contains(name) ? "sensitive-allowed" : Self.support.contains(name) ? "support" : "everyday"
            let root: Node?
            do { root = try Yams.compose(yaml: try archive.text(entry)) } catch {
                throw ImportError.badEntry(wheel: wheelPath, entry: entry, problem: "YAML does not parse: \(error)")
            }
            guard let conversations = root?["conversations"]?.sequence else {
                report.notes.append("\(entry): no 'conversations' list (skipped)")
                continue
            }
            for conversation in conversations {
                guard let opener = conversation.sequence?.first?.string else { continue }
                guard opener.split(whereSeparator: \.isWhitespace).count >= 2 else { continue }
                report.addSafe(prompt: opener, source: "chatterbot-corpus:\(name.replacingOccurrences(of: "_", with: "-"))/\(category)", policies: policies)
            }
        }
        log("\(Self.folder): \(files.count) files")
        return report
    }
}
