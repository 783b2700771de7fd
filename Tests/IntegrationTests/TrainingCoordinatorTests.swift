@testable import Cluster
import Foundation
import Runtime
import TestHelpers
import XCTest

/// The coordinator side of training jobs, against a real `coordinator serve` process and ranks played over the real
/// protocol: generations and ranks, the rendezvous store, progress in status, checkpoints pulled from rank 0,
/// committed and exported; rejections of non-holders; a rank's death and a coordinator kill -9.
final class TrainingCoordinatorTests: XCTestCase {
    private func hexHash(_ text: String) -> String { SHA256.hex(SHA256.hash(text)) }

    func testTwoRanksRendezvousReportProgressCommitCheckpointsAndExport() throws {
        let cluster = try TestCluster(name: "train-happy")
        defer { cluster.shutdown() }
        try cluster.startCoordinator()
        let output = "\(cluster.root)/final-model"
        let job = try cluster.submit(try cluster.writePretrainJob(steps: 4, checkpointEvery: 2, workers: 2, output: output))
        XCTAssertEqual(try cluster.job(job)["state"] as? String, "running")
        XCTAssertEqual(try cluster.job(job)["generation_running"] as? Bool, false, "waits for 2 workers")

        let a = try FakeWorker("w-a", endpoint: cluster.endpoint)
        let b = try FakeWorker("w-b", endpoint: cluster.endpoint)
        try a.register()
        try b.register()
        let ta = try a.nextTrainTask(), tb = try b.nextTrainTask()
        XCTAssertEqual(ta.taskID, "\(job)/gen-1/rank-0", "ranks by sorted worker id")
        XCTAssertEqual(tb.taskID, "\(job)/gen-1/rank-1")
        XCTAssertEqual(ta.attempt, 1)
        for (t, rank) in [(ta.trainStep, 0), (tb.trainStep, 1)] {
            XCTAssertEqual(t.ringRank, UInt32(rank))
            XCTAssertEqual(t.ringSize, 2)
            XCTAssertEqual(t.ringGeneration, 1)
            XCTAssertEqual(t.ringPeers, ["w-a", "w-b"])
            XCTAssertEqual(t.step, 0)
            XCTAssertEqual(t.endStep, 4)
            XCTAssertEqual(t.rendezvousPrefix, "\(job)/gen-1")
            XCTAssertEqual(t.shard.lineCount, 64)
            XCTAssertEqual(t.indexSizeBytes, 64 * 16)
            XCTAssertEqual(t.trainingKind, "pretrain")
        }

        // The rendezvous store: set, get, a missing key, a key outside the prefix, a value too large.
        let prefix = ta.trainStep.rendezvousPrefix
        XCTAssertEqual(try a.keyValue(ta.taskID, key: "\(prefix)/rank_0", set: Data("tcp://127.0.0.1:7000".utf8)).get().found, true)
        XCTAssertEqual(try b.keyValue(tb.taskID, key: "\(prefix)/rank_0").get().value, Data("tcp://127.0.0.1:7000".utf8))
        XCTAssertEqual(try b.keyValue(tb.taskID, key: "\(prefix)/rank_1_missing").get().found, false)
        if case .success = try b.keyValue(tb.taskID, key: "job-99/gen-1/x", set: Data("evil".utf8)) { XCTFail("a key outside the prefix was accepted") }
        if case .success = try b.keyValue(tb.taskID, key: "\(prefix)/big", set: Data(count: 70_000)) { XCTFail("a 70 KB value was accepted") }

        // A non-holder's key/value, progress and checkpoint are rejected; the holder's progress shows in status.
        if case .success = try b.keyValue(ta.taskID, key: "\(prefix)/rank_0", set: Data("tcp://evil:1".utf8)) { XCTFail("w-b wrote as rank 0") }
        XCTAssertEqual(try a.keyValue(ta.taskID, key: "\(prefix)/rank_0").get().value, Data("tcp://127.0.0.1:7000".utf8))
        try b.progress(ta.taskID, step: 3, loss: 99)
        try a.progress(ta.taskID, step: 1, loss: 4.5)
        try b.progress(tb.taskID, step: 1, loss: 4.5)
        try a.waitUntil("progress in status") { (try cluster.job(job)["step"] as? Int) == 1 }
        let status = try cluster.job(job)
        XCTAssertEqual(status["loss"] as? Double, 4.5, "w-b's progress for rank 0's task did not count")
        XCTAssertEqual(status["steps"] as? Int, 4)
        XCTAssertEqual(status["generation"] as? Int, 1)
        XCTAssertEqual(status["output"] as? String, output)
        XCTAssertEqual((status["losses"] as? [String: Any])?["mlm"] as? Double, 2.25)
        XCTAssertNotNil(status["eta_seconds"] as? Double)
        let ranks = try XCTUnwrap(status["workers"] as? [[String: Any]])
        XCTAssertEqual(ranks.map { $0["id"] as? String }, ["w-a", "w-b"])
        XCTAssertEqual(ranks.map { $0["rank"] as? Int }, [0, 1])
        let text = try cluster.client(["status", job])
        XCTAssertTrue(text.out.contains("TRAINING \(job) (pretrain)") && text.out.contains("step 1/4"), text.out)
        if case .success = try b.offerCheckpoint(tb.taskID, step: 2, files: FakeCheckpoint.files(step: 2), jobID: job) {
            XCTFail("rank 1 offered a checkpoint and it was committed")
        }
        if case .success = try b.offerCheckpoint(ta.taskID, step: 2, files: FakeCheckpoint.files(step: 2), jobID: job) {
            XCTFail("w-b offered rank 0's checkpoint and it was committed")
        }

        // Rank 0's checkpoint: pulled in chunks (2.5 MB > 1 MiB chunks), verified, committed, kept content-addressed.
        let files2 = FakeCheckpoint.files(step: 2)
        let committed = try a.offerCheckpoint(ta.taskID, step: 2, files: files2, jobID: job).get()
        XCTAssertEqual(committed.step, 2)
        XCTAssertEqual(committed.taskID, ta.taskID)
        let stored = "\(cluster.root)/var/checkpoint-blobs/\(SHA256.hex(SHA256.hash(files2["model.safetensors"]!)))"
        XCTAssertEqual(FileManager.default.contents(atPath: stored), files2["model.safetensors"])
        let checkpoint = try XCTUnwrap(try cluster.job(job)["last_checkpoint"] as? [String: Any])
        XCTAssertEqual(checkpoint["step"] as? Int, 2)
        XCTAssertEqual((checkpoint["files"] as? [[String: Any]])?.count, files2.count)
        // An older or equal step is refused.
        if case .success = try a.offerCheckpoint(ta.taskID, step: 2, files: files2, jobID: job) { XCTFail("step 2 committed twice") }

        // A third checkpoint: only the newest two are kept, and files only step 2 named leave the state directory.
        try a.progress(ta.taskID, step: 3, loss: 3.0)
        XCTAssertEqual(try a.offerCheckpoint(ta.taskID, step: 3, files: FakeCheckpoint.files(step: 3), jobID: job).get().step, 3)
        XCTAssertTrue(FileManager.default.fileExists(atPath: stored), "step 2 is still one of the newest two")

        // The final step: checkpoint at end_step, equal results from both ranks → the model files are exported.
        try a.progress(ta.taskID, step: 4, loss: 3.0)
        let files4 = FakeCheckpoint.files(step: 4)
        XCTAssertEqual(try a.offerCheckpoint(ta.taskID, step: 4, files: files4, jobID: job).get().step, 4)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stored), "step 2's model file outlived its checkpoint")
        let hash = hexHash("parameters after 4 steps")
        try a.finish(ta.taskID, step: 4, parametersHash: hash)
        try b.finish(tb.taskID, step: 4, parametersHash: hash)
        var final: [String: Any] = [:]
        try a.waitUntil("job done", timeout: 30) {
            final = try cluster.job(job)
            return ["done", "failed"].contains(final["state"] as? String ?? "")
        }
        XCTAssertEqual(final["state"] as? String, "done", "\(final["message"] ?? "")\n\(cluster.logs)")
        XCTAssertEqual(final["step"] as? Int, 4)
        XCTAssertEqual(final["export_path"] as? String, output)
        XCTAssertEqual(FileManager.default.contents(atPath: "\(output)/model.safetensors"), files4["model.safetensors"])
        XCTAssertEqual(FileManager.default.contents(atPath: "\(output)/config.json"), files4["config.json"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(output)/optimizer.safetensors"), "trainer state is not exported")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(output)/trainer_state.json"))
        let generations = try XCTUnwrap(final["generations"] as? [[String: Any]])
        XCTAssertEqual(generations.count, 1)
        XCTAssertEqual(generations.first?["end_reason"] as? String, "finished")
        // Exported: no checkpoint file is kept for a finished job.
        let left = (try? FileManager.default.contentsOfDirectory(atPath: "\(cluster.root)/var/checkpoint-blobs")) ?? []
        XCTAssertEqual(left.filter { !$0.hasPrefix(".") }, [], "checkpoint files of a finished job were left behind")
    }

    func testCorruptCheckpointIsRefusedAndDivergedRanksFailTheJob() throws {
        let cluster = try TestCluster(name: "train-diverged")
        defer { cluster.shutdown() }
        try cluster.startCoordinator()
        let job = try cluster.submit(try cluster.writePretrainJob(steps: 2, checkpointEvery: 0, workers: 2))
        let a = try FakeWorker("w-a", endpoint: cluster.endpoint), b = try FakeWorker("w-b", endpoint: cluster.endpoint)
        try a.register()
        try b.register()
        let ta = try a.nextTrainTask(), tb = try b.nextTrainTask()
        // Bytes that do not hash to what was offered are refused: nothing is committed, rank 0 is told.
        switch try a.offerCheckpoint(ta.taskID, step: 2, files: FakeCheckpoint.files(step: 2, modelBytes: 1000), jobID: job, corrupt: true) {
        case .success: XCTFail("a checkpoint with corrupted bytes was committed")
        case .failure(let refusal): XCTAssertTrue(refusal.error.message.contains("hash"), refusal.error.message)
        }
        XCTAssertTrue(try cluster.job(job)["last_checkpoint"] is NSNull)
        _ = try a.offerCheckpoint(ta.taskID, step: 2, files: FakeCheckpoint.files(step: 2, modelBytes: 1000), jobID: job).get()
        try a.finish(ta.taskID, step: 2, parametersHash: hexHash("a"))
        try b.finish(tb.taskID, step: 2, parametersHash: hexHash("b"))
        let final = try cluster.waitForJob(job, timeout: 20)
        XCTAssertEqual(final["state"] as? String, "failed")
        XCTAssertTrue((final["message"] as? String ?? "").contains("different parameters"), "\(final)")
    }

    /// A rank dies (no heartbeats): the generation ends, the survivor is told to stop its task, and the next
    /// generation starts from the committed checkpoint with one rank (same global batch). Then cancel.
    func testRankDeathStartsANewGenerationFromTheCommittedStep() throws {
        let cluster = try TestCluster(name: "train-death")
        defer { cluster.shutdown() }
        try cluster.startCoordinator()
        let job = try cluster.submit(try cluster.writePretrainJob(steps: 6, checkpointEvery: 2, workers: 2))
        let a = try FakeWorker("w-a", endpoint: cluster.endpoint)
        var b: FakeWorker? = try FakeWorker("w-b", endpoint: cluster.endpoint)
        try a.register()
        try b!.register()
        let ta = try a.nextTrainTask()
        let tb = try b!.nextTrainTask()
        try a.progress(ta.taskID, step: 3, loss: 2)
        let files2 = FakeCheckpoint.files(step: 2)
        _ = try a.offerCheckpoint(ta.taskID, step: 2, files: files2, jobID: job).get()
        b = nil  // w-b goes silent
        let cancel = try a.nextTaskCancel(timeout: 20)
        XCTAssertEqual(cancel.taskIds, [ta.taskID], "the survivor is told to stop its rank of generation 1")
        let next = try a.nextTrainTask(timeout: 20)
        XCTAssertEqual(next.taskID, "\(job)/gen-2/rank-0")
        XCTAssertEqual(next.trainStep.ringSize, 1)
        XCTAssertEqual(next.trainStep.step, 2, "starts from the committed step")
        XCTAssertEqual(next.trainStep.endStep, 6)
        XCTAssertEqual(Set(next.trainStep.checkpoint.files.map(\.contentHash)), Set(files2.values.map { SHA256.hex(SHA256.hash($0)) }),
                       "from the committed checkpoint's files, optimizer and trainer state included")
        // The old generation's keys, progress and results no longer count.
        if case .success = try a.keyValue(ta.taskID, key: "\(job)/gen-1/x", set: Data("1".utf8)) { XCTFail("old generation's key accepted") }
        try a.progress(ta.taskID, step: 5, loss: 1)
        try a.progress(next.taskID, step: 3, loss: 1.5)
        try a.waitUntil("generation 2 progress") { (try cluster.job(job)["step"] as? Int) == 3 }
        let status = try cluster.job(job)
        XCTAssertEqual(status["generation"] as? Int, 2)
        XCTAssertEqual(status["loss"] as? Double, 1.5)
        XCTAssertEqual((status["generations"] as? [[String: Any]])?.first?["end_reason"] as? String,
                       "rank 1 (worker w-b) left the cluster")
        _ = tb

        // Cancel: the rank is told to stop, the job is cancelled.
        let result = try cluster.client(["cancel", job])
        XCTAssertEqual(result.status, 0, result.err)
        let stop = try a.nextTaskCancel(timeout: 10)
        XCTAssertEqual(stop.taskIds, [next.taskID])
        XCTAssertEqual(try cluster.job(job)["state"] as? String, "cancelled")
    }

    /// A worker that registers while a generation runs joins at the next checkpoint commit: the ranks stop there and
    /// generation 2 starts from that step with both.
    func testIdleWorkerJoinsAtTheNextCheckpointCommit() throws {
        let cluster = try TestCluster(name: "train-join")
        defer { cluster.shutdown() }
        try cluster.startCoordinator()
        let job = try cluster.submit(try cluster.writePretrainJob(steps: 6, checkpointEvery: 2, workers: 1))
        let a = try FakeWorker("w-a", endpoint: cluster.endpoint), b = try FakeWorker("w-b", endpoint: cluster.endpoint)
        try a.register()
        let ta = try a.nextTrainTask()
        XCTAssertEqual(ta.trainStep.ringSize, 1)
        try b.register()
        try b.waitUntil("w-b registered") { try cluster.workerIDs() == ["w-a", "w-b"] }
        try a.progress(ta.taskID, step: 2, loss: 2)
        _ = try a.offerCheckpoint(ta.taskID, step: 2, files: FakeCheckpoint.files(step: 2, modelBytes: 2000), jobID: job).get()
        try b.heartbeat()
        XCTAssertEqual(try a.nextTaskCancel(timeout: 10).taskIds, [ta.taskID], "the ranks stop at the committed step")
        let next = try nextTrainTasks([a, b], timeout: 20)
        XCTAssertEqual(next.map(\.taskID), ["\(job)/gen-2/rank-0", "\(job)/gen-2/rank-1"])
        XCTAssertEqual(next.map(\.trainStep.step), [2, 2])
        XCTAssertEqual(next.map(\.trainStep.ringSize), [2, 2])
        let generations = try XCTUnwrap(try cluster.job(job)["generations"] as? [[String: Any]])
        XCTAssertEqual(generations.first?["end_reason"] as? String, "worker(s) w-b join at step 2")
    }

    /// A training job waiting for its workers holds back arms of a merge search submitted after it: the first free
    /// worker is not given arm after arm, and both get ranks once the second registers.
    func testWaitingTrainingJobIsServedBeforeALaterMergeSearch() throws {
        let cluster = try TestCluster(name: "train-fifo")
        defer { cluster.shutdown() }
        try cluster.startCoordinator()
        let training = try cluster.submit(try cluster.writePretrainJob(steps: 4, checkpointEvery: 2, workers: 2))
        let merge = try cluster.submit(try cluster.writeJob(iterations: 4, minMs: 0))
        let a = try FakeWorker("w-a", endpoint: cluster.endpoint), b = try FakeWorker("w-b", endpoint: cluster.endpoint)
        try a.register()
        XCTAssertThrowsError(try a.nextAssignment(timeout: 1.5), "w-a got work while the training job waits for a second worker")
        try b.register()
        let tasks = try nextTrainTasks([a, b], timeout: 20)
        XCTAssertEqual(tasks.map(\.taskID), ["\(training)/gen-1/rank-0", "\(training)/gen-1/rank-1"])
        XCTAssertEqual(try cluster.job(merge)["arms_issued"] as? Int, 0)
    }

    /// kill -9 of the coordinator after a commit: on restart the job resumes from the committed checkpoint as
    /// generation 2 once both workers are back, and the ranks of generation 1 they still run are cancelled.
    func testCoordinatorKillResumesFromTheCommittedCheckpoint() throws {
        let cluster = try TestCluster(name: "train-restart")
        defer { cluster.shutdown() }
        let coordinator = try cluster.startCoordinator()
        let job = try cluster.submit(try cluster.writePretrainJob(steps: 8, checkpointEvery: 4, workers: 2))
        let a = try FakeWorker("w-a", endpoint: cluster.endpoint), b = try FakeWorker("w-b", endpoint: cluster.endpoint)
        try a.register()
        try b.register()
        let ta = try a.nextTrainTask(), tb = try b.nextTrainTask()
        let files4 = FakeCheckpoint.files(step: 4)
        _ = try a.offerCheckpoint(ta.taskID, step: 4, files: files4, jobID: job).get()
        try a.progress(ta.taskID, step: 5, loss: 2)
        coordinator.kill9()

        try cluster.startCoordinator(bind: cluster.endpoint)
        for worker in [a, b] {
            _ = try? worker.nextError(.unknownSender, timeout: 10)
            try worker.registerHolding()
        }
        // Both still run generation 1: the coordinator cancels those tasks, then forms generation 2.
        XCTAssertEqual(try a.nextTaskCancel(timeout: 20).taskIds, [ta.taskID])
        XCTAssertEqual(try b.nextTaskCancel(timeout: 20).taskIds, [tb.taskID])
        let next = try nextTrainTasks([a, b], timeout: 20)
        let na = next[0], nb = next[1]
        XCTAssertEqual(na.taskID, "\(job)/gen-2/rank-0")
        XCTAssertEqual(nb.taskID, "\(job)/gen-2/rank-1")
        XCTAssertEqual(na.trainStep.step, 4, "from the last committed checkpoint")
        XCTAssertEqual(na.trainStep.checkpoint.files.first { $0.name == "model.safetensors" }?.contentHash,
                       SHA256.hex(SHA256.hash(files4["model.safetensors"]!)))
        // The checkpoint's files are served to workers as blobs.
        var request = Uniguard_V1_BlobRequest()
        request.contentHash = SHA256.hex(SHA256.hash(files4["trainer_state.json"]!))
        request.length = 1 << 20
        try b.send(.blobRequest(request))
        let chunk = try b.waitFor("blob chunk") { p -> Uniguard_V1_BlobChunk? in if case .blobChunk(let c) = p { return c } else { return nil } }
        XCTAssertEqual(chunk.totalSize, UInt64(files4["trainer_state.json"]!.count))
        let status = try cluster.job(job)
        XCTAssertEqual(status["generation"] as? Int, 2)
        XCTAssertEqual((status["last_checkpoint"] as? [String: Any])?["step"] as? Int, 4)
        XCTAssertEqual(status["step"] as? Int, 4)
    }
}
