@testable import Cluster
@testable import Coordinator
import Foundation
@testable import Fusion
import TestHelpers
import XCTest

/// A database written before merge search became one concept (schema 1) still opens, and its jobs resume.
final class JobStoreMigrationTests: XCTestCase {
    func testSchema1JobsAreUpgradedInPlace() throws {
        let path = TestSupport.tempDir().appendingPathComponent("coordinator.sqlite").path
        let subset = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ParameterSubset.all))
        // A classifier job as schema 1 stored it: one `strategy`, ranking results inside the spec.
        let spec: [String: Any] = [
            "name": "job", "candidates": ["/m/a", "/m/b"], "methods": ["linear"], "subsets": [subset],
            "methodParameters": [String: Any](), "strategy": "ucb", "iterations": 6, "batch": 1, "seed": 3,
            "validation": "/v.jsonl", "validationShards": 2, "policyInstruction": "", "threshold": 0.5,
            "evaluator": "classifier", "evaluatorOptions": [String: Any](), "policy": "t", "topK": 2, "instructionCount": 1,
            "ranking": [["path": "/m/a", "f1": 0.8], ["path": "/m/b", "f1": 0.7], ["path": "/m/c", "f1": 0.1]],
        ]
        let files = [["name": "model.safetensors", "hash": "aa", "size": 3] as [String: Any]]
        let prepared: [String: Any] = [
            "spec": spec, "validationHash": "dd", "validationSize": 100,
            "candidates": ["a", "b"].map { ["name": $0, "path": "/m/\($0)", "files": files] as [String: Any] },
            "shards": [["index": 0, "firstLine": 0, "lineCount": 5, "hash": "s0"], ["index": 1, "firstLine": 5, "lineCount": 5, "hash": "s1"]],
        ]
        let search = try MergeSearch(space: SearchSpace(candidates: ["/m/a", "/m/b"]), strategy: .ucb, seed: 3)
        // The database as the coordinator wrote it before GRDB: schema 1's tables, no `grdb_migrations`.
        do {
            let old = try StoreDatabase(path: path)
            try old.transaction {
                try old.executeScript(StoreSchema.v1)
                try old.execute("""
                    INSERT INTO jobs(id, seq, kind, spec_yaml, prepared_json, state, submitter, created_ms, search_json)
                    VALUES('job-1', 1, 'merge-search', 'kind: merge-search', ?, 'running', 'test', 0, ?)
                    """, [String(decoding: try JSONSerialization.data(withJSONObject: prepared), as: UTF8.self),
                          try JobStore.json(search)])
            }
            try old.close()
        }
        let store = try JobStore(path: path)
        let job = try XCTUnwrap(try store.loadJobs().first)
        XCTAssertEqual(job.prepared.spec.strategies, [.ucb])
        XCTAssertEqual(job.prepared.spec.topK, 2)
        XCTAssertEqual(job.prepared.ranking.kept, ["/m/a", "/m/b"])
        XCTAssertEqual(job.prepared.ranking.scores.map(\.f1), [0.8, 0.7, 0.1])
        XCTAssertEqual(job.prepared.ranking.policy, "t")
        XCTAssertEqual(job.prepared.shards.count, 2)
        XCTAssertEqual(try store.db.rows("SELECT value FROM meta WHERE key = 'schema_version'").first?.value(0), "5")
        XCTAssertEqual(try store.nextJobID().id, "job-2")
        // The resumed run is the stored engine under the upgraded spec.
        let run = MergeSearchRun(spec: job.prepared.spec, ranking: job.prepared.ranking, engine: job.search)
        XCTAssertEqual(run.strategy, .ucb)
        XCTAssertTrue(run.canAsk)
    }

    /// A schema 2 database from before GRDB opens unchanged; reopening runs no migration twice.
    func testSchema2DatabaseWithoutMigrationTableOpens() throws {
        let path = TestSupport.tempDir().appendingPathComponent("coordinator.sqlite").path
        let job = try SampleJob.job(id: "job-1")
        do {
            let old = try StoreDatabase(path: path)
            try old.transaction {
                try old.executeScript(StoreSchema.v1)
                try old.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
                try old.execute("""
                    INSERT INTO jobs(id, seq, kind, spec_yaml, prepared_json, state, submitter, created_ms, search_json)
                    VALUES('job-1', 1, 'merge-search', 'kind: merge-search', ?, 'done', 'test', 0, ?)
                    """, [try JobStore.json(job.prepared), try JobStore.json(job.search)])
            }
            try old.close()
        }
        for _ in 0..<2 {
            let store = try JobStore(path: path)
            XCTAssertEqual(try store.loadJobs().map(\.prepared), [job.prepared])
            XCTAssertEqual(try store.loadJobs().map(\.state), [.done])
            XCTAssertEqual(try store.db.rows("SELECT identifier FROM grdb_migrations ORDER BY identifier").map { try $0.value(0) as String },
                           ["v1", "v2", "v3-training", "v4-synthesis", "v5-synthesis-dedup-refine"])
        }
    }
}
