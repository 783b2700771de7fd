@testable import Cluster
@testable import Coordinator
import Foundation
import TestHelpers
import Training
import XCTest

/// Training jobs in the store: their rows beside merge-search jobs, generations and committed checkpoints, all
/// surviving a reopen (what a coordinator restart reads).
final class JobStoreTrainingTests: XCTestCase {
    static func prepared() -> PreparedTraining {
        let spec = TrainingJobSpec(kind: .pretrain, name: "gip", workers: 2, output: nil, base: "/b", data: "/c.jsonl",
                                   validation: nil, pretrain: PretrainOptions(), finetune: nil, rendezvousTimeoutMs: 1000,
                                   collectiveTimeoutMs: 1000)
        let hash = String(repeating: "a", count: 64)
        return PreparedTraining(spec: spec, base: ModelBlobSet(name: "b", path: "/b", files: [.init(name: "model.safetensors", hash: hash, size: 3)]),
                                data: .init(path: "/c.jsonl", hash: String(repeating: "c", count: 64), size: 10), records: 5,
                                index: .init(path: "/s/i", hash: String(repeating: "d", count: 64), size: 80), validation: nil,
                                totalSteps: 30, settingsJSON: "{}")
    }

    func testTrainingJobsGenerationsAndCheckpointsSurviveAReopen() throws {
        let path = StoreTestSupport.path()
        let (store, mergeJob) = try StoreTestSupport.storeWithJob(path)
        let (id, seq) = try store.nextJobID()
        let prepared = Self.prepared()
        try store.transaction {
            try store.insertTrainingJob(StoredTrainingJob(id: id, specYAML: "kind: pretrain", prepared: prepared, state: .running,
                                                          submitter: "t", createdMs: 5), seq: seq)
            try store.insertGeneration(job: id, StoredGeneration(generation: 1, startStep: 0, members: ["a", "b"], startedMs: 10))
        }
        XCTAssertEqual(try store.loadJobs().map(\.id), [mergeJob.id], "merge-search loading skips training jobs")
        let files = [ModelBlobSet.File(name: "model.safetensors", hash: String(repeating: "e", count: 64), size: 9),
                     ModelBlobSet.File(name: "optimizer.safetensors", hash: String(repeating: "f", count: 64), size: 18)]
        try store.transaction {
            try store.commitCheckpoint(job: id, CommittedCheckpoint(step: 10, generation: 1, files: files, committedMs: 20))
            try store.endGeneration(job: id, generation: 1, endedMs: 30, reason: "rank 1 left")
            try store.insertGeneration(job: id, StoredGeneration(generation: 2, startStep: 10, members: ["a"], startedMs: 31))
            try store.commitCheckpoint(job: id, CommittedCheckpoint(step: 20, generation: 2, files: files, committedMs: 40))
        }
        // A failed transaction commits nothing.
        XCTAssertThrowsError(try store.transaction {
            try store.commitCheckpoint(job: id, CommittedCheckpoint(step: 30, generation: 2, files: files, committedMs: 50))
            throw StoreError.busy("simulated failure")
        })
        try store.close()

        let reopened = try JobStore(path: path)
        let jobs = try reopened.loadTrainingJobs()
        XCTAssertEqual(jobs.map(\.id), [id])
        XCTAssertEqual(jobs.first?.prepared, prepared)
        XCTAssertEqual(jobs.first?.state, .running)
        XCTAssertEqual(try reopened.jobKinds().map(\.kind), ["merge-search", "pretrain"])
        let generations = try reopened.loadGenerations(job: id)
        XCTAssertEqual(generations.map(\.generation), [1, 2])
        XCTAssertEqual(generations[0].endReason, "rank 1 left")
        XCTAssertEqual(generations[0].members, ["a", "b"])
        XCTAssertNil(generations[1].endedMs)
        let last = try XCTUnwrap(try reopened.lastCheckpoint(job: id))
        XCTAssertEqual(last.step, 20, "the newest committed checkpoint; the rolled-back one is not there")
        XCTAssertEqual(last.generation, 2)
        XCTAssertEqual(last.files, files)
        XCTAssertEqual(try reopened.checkpointCount(job: id), 2)
        // Ending a training job records it in the marks like any job.
        try reopened.transaction { try reopened.setJobState(id, .done, finishedMs: 60, exportPath: "/out") }
        XCTAssertEqual(try StoreTestSupport.marks(path).terminalJobs[id]?.state, .done)
        try reopened.close()
        XCTAssertEqual(try JobStore(path: path).loadTrainingJobs().first?.state, .done)
    }
}
