import Foundation

/// Imports WritingBench's writing requests from the `inspect-evals==0.26.0` wheel (MIT licence):
/// `inspect_evals/writingbench/benchmark_all.jsonl`, 1,000 real requests across six domains (novels,
/// slogans, tender documents, lesson plans, legal opinions...). Only English queries are taken (at least
/// 90% of letters ASCII). Each becomes a `safe` sample, source `inspect-evals:writingbench-<domain>/<category>`
/// with category `creative` (Literature & Arts), `business` (Finance & Business, Advertising & Marketing),
/// `academic` (Academic & Engineering, Education) or `sensitive-allowed` (Politics & Law).
/// Queries are cut to `maxCharacters` at a word boundary: they run to 30,000 characters of pasted
/// reference material, while guards read the first 64-256 tokens.
/// Not a safe sample for the policies a request may genuinely fall under: Politics & Law (legal opinions,
/// defence pleas, contracts) is skipped for `legal_advice`; investment analysis, financial reports and
/// risk management for `financial_advice` and `tax_advice`; recruitment, HR and biographies for `pii`.
public struct InspectEvalsImporter: Sendable {
    /// The pinned wheel.
    public static let wheel = WheelSpec(name: "inspect-evals", version: "0.26.0")
    static let entry = "inspect_evals/writingbench/benchmark_all.jsonl"
    static let maxCharacters = 2000

    public init() {}

    /// Reads the wheel; `policies` are the ids each prompt may be a safe sample for.
    public func run(wheelPath: String, policies: [String], log: (String) -> Void = { _ in }) throws -> ImportReport {
        let archive = try WheelArchive(path: wheelPath)
        guard try archive.entries().contains(Self.entry) else {
            throw ImportError.layoutChanged(wheel: wheelPath, detail: "no \(Self.entry) in the wheel")
        }
        let rows = try archive.jsonLines(try archive.read(Self.entry), entry: Self.entry)
        var report = ImportReport()
        var nonEnglish = 0
        for row in rows {
            guard let query = row["query"] as? String, let domain = row["domain1"] as? String else {
                report.notes.append("skipped a row without 'query' and 'domain1' strings")
                continue
            }
            guard Self.isEnglish(query) else { nonEnglish += 1; continue }
            let task = row["domain2"] as? String ?? ""
            let slug = domain.lowercased().replacingOccurrences(of: " & ", with: "-").replacingOccurrences(of: " ", with: "-")
            report.addSafe(prompt: Self.cut(query), source: "inspect-evals:writingbench-\(slug)/\(Self.category(domain))",
                           policies: policies, except: Self.excluded(domain: domain, task: task))
        }
        if nonEnglish > 0 { report.notes.append("skipped \(nonEnglish) non-English WritingBench queries") }
        log("\(Self.entry): \(rows.count) queries")
        return report
    }

    static func category(_ domain: String) -> String {
        switch domain {
        case "Literature & Arts": return "creative"
        case "Finance & Business", "Advertising & Marketing": return "business"
        case "Politics & Law": return "sensitive-allowed"
        default: return "academic"
        }
    }

    static func excluded(domain: String, task: String) -> Set<String> {
        var out: Set<String> = []
        if domain == "Politics & Law" { out.insert("legal_advice") }
        if ["Investment Analysis", "Financial Reports", "Risk Management"].contains(task) { out.formUnion(["financial_advice", "tax_advice"]) }
        if ["Recruitment", "Human Resource Management", "Biography"].contains(task) { out.insert("pii") }
        return out
    }

    /// At least 90% of the letters are ASCII (WritingBench is half Chinese).
    static func isEnglish(_ text: String) -> Bool {
        var ascii = 0, other = 0
        for scalar in text.unicodeScalars where scalar.properties.isAlphabetic {
            if scalar.isASCII { ascii += 1 } else { other += 1 }
        }
        return ascii > 0 && Double(ascii) >= 0.9 * Double(ascii + other)
    }

    /// The first `maxCharacters` characters, cut back to the last whitespace.
    static func cut(_ text: String) -> String {
        guard text.count > maxCharacters else { return text }
        let head = text.prefix(maxCharacters)
        return String(head.lastIndex(where: \.isWhitespace).map { head[..<$0] } ?? head)
    }
}
