import Cluster
import Foundation
import Fusion
import Guards

/// A plausible merge-search job (three candidates, `shards` validation shards, a search with `completedArms`
/// arms reported) for the store benchmark and the store tests: no model files are read.
enum SampleJob {
    /// `PreparedMergeSearch` has no public memberwise init; its Codable form is the stable way to build one.
    private struct Prepared: Encodable {
        struct Shard: Encodable { var index: Int, firstLine: Int, lineCount: Int, hash: String }
        var spec: MergeSearchSpec
        var ranking: CandidateRanking
        var candidates: [ModelBlobSet]
        var validationHash: String
        var validationSize: UInt64
        var shards: [Shard]
    }

    static let candidates = ["/models/a", "/models/b", "/models/c"]

    static func prepared(shards: Int = 2) throws -> PreparedMergeSearch {
        var spec = MergeSearchSpec(name: "sample", candidates: candidates, validation: "/data/val.jsonl")
        spec.validationShards = shards
        spec.policy = "prompt_injection"
        let ranking = CandidateRanking(scores: candidates.enumerated().map { .init(path: $1, f1: 0.9 - Double($0) / 10) },
                                       kept: candidates, instructionCount: 1, policy: spec.policy, sampleCount: 100 * shards)
        let blobs = candidates.map { path in
            ModelBlobSet(name: (path as NSString).lastPathComponent, path: path,
                         files: [.init(name: "model.safetensors", hash: String(repeating: "ab", count: 32), size: 90_000_000)])
        }
        let parts = Prepared(spec: spec, ranking: ranking, candidates: blobs, validationHash: String(repeating: "cd", count: 32),
                             validationSize: 10_000, shards: (0..<shards).map {
                                 .init(index: $0, firstLine: 100 * $0, lineCount: 100, hash: "shard-\($0)")
                             })
        return try JSONDecoder().decode(PreparedMergeSearch.self, from: JSONEncoder().encode(parts))
    }

    /// A search with `completedArms` arms asked and told, as the coordinator persists it after each result.
    static func search(completedArms: Int, seed: UInt64 = 7) throws -> MergeSearch {
        var search = try MergeSearch(space: SearchSpace(candidates: candidates), strategy: .thompson, seed: seed)
        for i in 0..<completedArms {
            let arm = search.ask()
            try search.tell(arm.id, f1: 0.5 + Double(i % 40) / 100, seconds: 1.5)
        }
        return search
    }

    static func job(id: String, shards: Int = 2, completedArms: Int = 0, createdMs: UInt64 = 1_700_000_000_000) throws -> StoredJob {
        StoredJob(id: id, kind: "merge-search", specYAML: "kind: merge-search\nname: sample\n", prepared: try prepared(shards: shards),
                  state: .running, submitter: "bench", createdMs: createdMs, search: try search(completedArms: completedArms))
    }
}
