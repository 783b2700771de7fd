import Foundation

/// What an importer produced: the samples plus per-source counts and notes on what it skipped and why.
public struct ImportReport: Sendable {
    /// Imported samples, deduplicated per policy by normalised prompt.
    public var samples: [Sample] = []
    /// Notes for the user (skipped files, fallbacks taken).
    public var notes: [String] = []
    /// Prompts dropped as duplicates of earlier ones.
    public var duplicates = 0

    private var seen: Set<String> = []

    public init() {}

    /// Adds a sample unless the same normalised prompt is already there for the same policy.
    mutating func add(policy: String, prompt: String, source: String) {
        let text = prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return }
        guard seen.insert(policy + "\u{1F}" + PromptText.normalized(text)).inserted else { duplicates += 1; return }
        samples.append(Sample(policy: policy, prompt: text, label: .unsafe, source: source))
    }

    /// Sample counts keyed by `source` then policy, sorted, for the command's summary.
    public var countsBySource: [(source: String, policy: String, count: Int)] {
        var counts: [String: [String: Int]] = [:]
        for sample in samples { counts[sample.source, default: [:]][sample.policy, default: 0] += 1 }
        return counts.keys.sorted().flatMap { source in
            counts[source]!.keys.sorted().map { (source, $0, counts[source]![$0]!) }
        }
    }
}
