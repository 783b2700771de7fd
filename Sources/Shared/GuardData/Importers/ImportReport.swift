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
    mutating func add(policy: String, prompt: String, source: String, label: SafetyLabel = .unsafe) {
        let text = prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return }
        guard seen.insert(policy + "\u{1F}" + PromptText.normalized(text)).inserted else { duplicates += 1; return }
        samples.append(Sample(policy: policy, prompt: text, label: label, source: source))
    }

    /// Adds a prompt that is safe under every policy in `policies` except `except` (one sample per policy),
    /// the way benign traffic (code, math, everyday questions) is safe whatever the guard.
    mutating func addSafe(prompt: String, source: String, policies: [String], except: Set<String> = []) {
        for policy in policies where !except.contains(policy) { add(policy: policy, prompt: prompt, source: source, label: .safe) }
    }

    /// Sample counts keyed by `source` then policy and label, sorted, for the command's summary.
    public var countsBySource: [(source: String, policy: String, label: SafetyLabel, count: Int)] {
        var counts: [String: [String: [SafetyLabel: Int]]] = [:]
        for sample in samples { counts[sample.source, default: [:]][sample.policy, default: [:]][sample.label, default: 0] += 1 }
        return counts.keys.sorted().flatMap { source in
            counts[source]!.keys.sorted().flatMap { policy in
                SafetyLabel.allCases.compactMap { label in counts[source]![policy]![label].map { (source, policy, label, $0) } }
            }
        }
    }
}
