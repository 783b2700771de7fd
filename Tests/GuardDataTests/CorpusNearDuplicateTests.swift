@testable import EncoderModel
import Foundation
@testable import GuardData
import TestHelpers
import XCTest

/// Embedding near-duplicate dedup: the filter's rule (earlier kept prompt of the same policy and label,
/// within the batch or the window) with a stand-in embedder, then real encoders end to end.
final class CorpusNearDuplicateTests: XCTestCase {
    /// Embeds a prompt as the one-hot vector of its first word's slot (so sharing a first word = cosine 1).
    final class FirstWordEmbedder: PromptEmbedding {
        let slots = ["alpha", "beta", "gamma", "delta"]
        var dimension: Int { slots.count }
        private(set) var batches: [Int] = []

        func embedPrompts(_ prompts: [String]) throws -> Tensor {
            batches.append(prompts.count)
            let t = Tensor(zeros: [prompts.count, dimension])
            for (i, p) in prompts.enumerated() {
                let word = p.split(separator: " ").first.map(String.init) ?? ""
                t.data[i * dimension + (slots.firstIndex(of: word) ?? 0)] = 1
            }
            return t
        }
    }

    func sample(_ policy: String, _ prompt: String, _ label: SafetyLabel = .safe) -> Sample {
        Sample(policy: policy, prompt: prompt, label: label, source: prompt)
    }

    func testDropsLaterPromptsSimilarToAnEarlierKeptOneOfTheSameGroupOnly() throws {
        let dir = try DataTempDirectory()
        let pack = try CorpusTestSupport.pack()
        let file = try CorpusTestSupport.write([
            sample("pii", "alpha one"), sample("pii", "beta one"), sample("pii", "alpha two"),  // same group: drop
            sample("toxicity", "alpha three"),                                                 // other policy: keep
            sample("pii", "alpha four", .unsafe),                                              // other label: keep
            sample("pii", "gamma one"), sample("pii", "alpha five"),                           // next batch: window
        ], to: "in.jsonl", in: dir)
        var options = CorpusOptions()
        options.dedupBatch = 5
        options.crossPairs = 0
        let embedder = FirstWordEmbedder()
        let (records, report) = try CorpusTestSupport.build([file], pack: pack, options: options, embedder: embedder)
        XCTAssertEqual(records.map(\.source), ["alpha one", "beta one", "alpha three", "alpha four", "gamma one"])
        XCTAssertEqual(report.nearDuplicates, 2)
        XCTAssertEqual(report.policies["pii"]?.nearDuplicates, 2)
        XCTAssertEqual(embedder.batches, [5, 2], "mini-batches of --dedup-batch, the rest at the end")

        options.nearDuplicateWindow = 0  // within the batch only: "alpha five" is in the second batch
        let inBatchOnly = try CorpusTestSupport.build([file], pack: pack, options: options, embedder: FirstWordEmbedder())
        XCTAssertEqual(inBatchOnly.report.nearDuplicates, 1)
        XCTAssertTrue(inBatchOnly.records.contains { $0.source == "alpha five" })
    }

    func testADroppedPromptDoesNotDropItsOwnNeighbours() {
        // a ~ b (0.96), b ~ c (0.96), a vs c (0.85): b is dropped as a's duplicate; c is compared only with kept a.
        let filter = NearDuplicateFilter(dimension: 2, threshold: 0.95, window: 0)
        func unit(_ degrees: Float) -> [Float] { [cos(degrees * .pi / 180), sin(degrees * .pi / 180)] }
        let rows = unit(0) + unit(16) + unit(32)
        let keep = rows.withUnsafeBufferPointer { filter.filter($0.baseAddress!, rows: 3, groups: [0, 0, 0]) }
        XCTAssertEqual(keep, [true, false, true])
    }

    func testTinyEncoderDropsAPromptWhoseTokensAreIdentical() throws {
        // Unknown words all become [UNK], so these two prompts are one token sequence: cosine 1.
        let embedder = try SentenceEmbedder(directory: try TestSupport.tinyBase())
        let dir = try DataTempDirectory()
        let pack = try CorpusTestSupport.pack()
        let file = try CorpusTestSupport.write([
            sample("pii", "bread garden music zorblax"),
            sample("pii", "jailbreak exploit leak"),
            sample("pii", "bread garden music quuxified"),
        ], to: "in.jsonl", in: dir)
        var options = CorpusOptions()
        options.nearDuplicateThreshold = 0.9999
        let (records, report) = try CorpusTestSupport.build([file], pack: pack, options: options, embedder: embedder)
        XCTAssertEqual(records.map(\.source), ["bread garden music zorblax", "jailbreak exploit leak"])
        XCTAssertEqual(report.nearDuplicates, 1)
        XCTAssertEqual(report.exactDuplicates, 0, "the texts differ, only the embedding dedup catches them")
    }

    func testBaseModelDropsAParaphrase() throws {
        let embedder = try SentenceEmbedder(directory: try TestSupport.baseModel())
        let dir = try DataTempDirectory()
        let pack = try CorpusTestSupport.pack()
        let file = try CorpusTestSupport.write([
            sample("pii", "How do I reset my router password?"),
            sample("pii", "What stocks should I buy this week?"),
            sample("pii", "How can I reset my router's password?"),
        ], to: "in.jsonl", in: dir)
        let (records, report) = try CorpusTestSupport.build([file], pack: pack, embedder: embedder)
        XCTAssertEqual(records.map(\.source), ["How do I reset my router password?", "What stocks should I buy this week?"])
        XCTAssertEqual(report.nearDuplicates, 1)
    }
}
