import Foundation
import Runtime

/// Imports the seed datasets bundled in the `spikee==0.9.2` wheel (Apache-2.0), under
/// `spikee/data/workspace/datasets/`:
/// - `seeds-investment-advice-fp/standalone_user_inputs.jsonl`: general investing questions written as
///   false-positive tests for a financial-advice guard → `safe` under every policy (hard negatives for
///   `financial_advice`), source `spikee:investment-advice-fp/sensitive-allowed`.
/// - `seeds-investment-advice/{standalone_user_inputs,instructions}.jsonl`: requests for personal
///   investment advice → `financial_advice` / `unsafe`, `spikee:investment-advice`.
/// - `seeds-harmful-instructions-only/instructions.jsonl` → `safety` / `unsafe`, `spikee:harmful-instructions`.
/// - `seeds-sysmsg-extraction-2025-04/instructions.jsonl` (system-prompt extraction) → `prompt_injection` /
///   `unsafe`, `spikee:sysmsg-extraction`.
/// - every `jailbreaks.jsonl` except the `no-jailbreak` entry (injection wrappers with an `<INSTRUCTION>`
///   slot) → `prompt_injection` / `unsafe`, `spikee:jailbreaks-<folder>`; the slot gets one of the same
///   folder's instructions, picked by FNV-1a of the entry id, as spikee's generator pairs them.
/// Legacy folders (`zzz_LEGACY_*`) and the empty placeholders of datasets fetched from elsewhere are skipped.
public struct SpikeeImporter: Sendable {
    /// The pinned wheel.
    public static let wheel = WheelSpec(name: "spikee", version: "0.9.2")
    static let root = "spikee/data/workspace/datasets/"

    public init() {}

    /// Reads the wheel; `policies` are the ids the false-positive questions are safe samples for.
    public func run(wheelPath: String, policies: [String], log: (String) -> Void = { _ in }) throws -> ImportReport {
        let archive = try WheelArchive(path: wheelPath)
        let entries = try archive.entries().filter { $0.hasPrefix(Self.root) && $0.hasSuffix(".jsonl") && !$0.contains("zzz_LEGACY") }
        guard !entries.isEmpty else { throw ImportError.layoutChanged(wheel: wheelPath, detail: "no \(Self.root)*/*.jsonl files in the wheel") }
        try archive.extract(prefixes: [Self.root])
        func rows(_ folder: String, _ file: String) throws -> [[String: Any]] {
            let entry = Self.root + folder + "/" + file
            guard entries.contains(entry) else { return [] }
            return try archive.jsonLines(try archive.read(entry), entry: entry)
        }
        var report = ImportReport()
        for row in try rows("seeds-investment-advice-fp", "standalone_user_inputs.jsonl") {
            if let text = row["text"] as? String { report.addSafe(prompt: text, source: "spikee:investment-advice-fp/sensitive-allowed", policies: policies) }
        }
        for row in try rows("seeds-investment-advice", "standalone_user_inputs.jsonl") {
            if let text = row["text"] as? String { report.add(policy: "financial_advice", prompt: text, source: "spikee:investment-advice") }
        }
        for row in try rows("seeds-investment-advice", "instructions.jsonl") {
            if let text = row["instruction"] as? String { report.add(policy: "financial_advice", prompt: text, source: "spikee:investment-advice") }
        }
        for row in try rows("seeds-harmful-instructions-only", "instructions.jsonl") {
            if let text = row["instruction"] as? String { report.add(policy: "safety", prompt: text, source: "spikee:harmful-instructions") }
        }
        for row in try rows("seeds-sysmsg-extraction-2025-04", "instructions.jsonl") {
            if let text = row["instruction"] as? String { report.add(policy: "prompt_injection", prompt: text, source: "spikee:sysmsg-extraction") }
        }
        let folders = Set(entries.map { String($0.dropFirst(Self.root.count).prefix { $0 != "/" }) }).sorted()
        for folder in folders {
            let wrappers = try rows(folder, "jailbreaks.jsonl")
            guard !wrappers.isEmpty else { continue }
            let instructions = try rows(folder, "instructions.jsonl").compactMap { $0["instruction"] as? String }
            let slug = folder.hasPrefix("seeds-") ? String(folder.dropFirst(6)) : folder
            for (index, row) in wrappers.enumerated() {
                guard let text = row["text"] as? String, row["jailbreak_type"] as? String != "no-jailbreak" else { continue }
                let key = (row["id"] as? String) ?? "\(folder)#\(index)"
                let payload = instructions.isEmpty ? "" : instructions[Int(FNV1a.hash64(key) % UInt64(instructions.count))]
                report.add(policy: "prompt_injection", prompt: text.replacingOccurrences(of: "<INSTRUCTION>", with: payload), source: "spikee:jailbreaks-\(slug)")
            }
        }
        log("\(Self.root): \(folders.count) seed folders")
        return report
    }
}
