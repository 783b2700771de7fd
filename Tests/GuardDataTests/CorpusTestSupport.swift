import Foundation
@testable import GuardData
import XCTest

/// Sample files and builds for the corpus builder tests, on the bundled policy pack.
enum CorpusTestSupport {
    static func pack() throws -> PolicyPack { try PolicyPack.load(directory: DataBundledPackTests.policiesDirectory) }

    /// Writes samples as a JSONL file.
    static func write(_ samples: [Sample], to name: String, in dir: DataTempDirectory) throws -> String {
        try dir.write(name, samples.map(SampleCodec.encode).joined(separator: "\n") + "\n")
    }

    /// Every policy's own examples as samples (8 policies x ~40 prompts): a small, realistic input.
    static func examples(_ pack: PolicyPack) -> [Sample] {
        pack.policies.flatMap { policy in
            SafetyLabel.allCases.flatMap { label in
                policy.examples[label].map { Sample(policy: policy.id, prompt: $0, label: label, source: "test:\(policy.id)") }
            }
        }
    }

    /// Builds in memory (no embedding dedup unless an embedder is given) and returns records and report.
    static func build(_ inputs: [String], pack: PolicyPack, options: CorpusOptions = .init(),
                      embedder: (any PromptEmbedding)? = nil) throws -> (records: [CorpusRecord], report: CorpusReport) {
        var records: [CorpusRecord] = []
        let report = try CorpusBuilder(pack: pack, options: options, embedder: embedder).build(inputs: inputs) { records.append($0) }
        return (records, report)
    }
}
