import Foundation
import XCTest

/// Training jobs on a real cluster (coordinator + worker processes, Gloo all-reduce over loopback) against the
/// same training in one process (`uniguard pretrain` / `uniguard train`).
///
/// Tolerance: every rank sums the same gradient shares, but in the ring's order rather than one process's, so the
/// parameters differ only by float32 summation order. With lr = 1e-3 one AdamW step moves a parameter by about
/// lr; a partition bug (a row lost, doubled or mis-scaled) changes most parameters by that much. Summation-order
/// noise is ~1e-6 relative on the gradients, so the runs must agree to lr/10 = 1e-4 — and the test also checks
/// training moved the parameters by far more than that, so agreement is not vacuous.
final class TrainingClusterTests: XCTestCase {
    var cluster: TestCluster!
    var fixture: TrainingFixture!
    static let tolerance: Float = 1e-4
    /// Milliseconds each rank pauses after a step in the disturbance tests: 30 steps then take ~3 s whatever the build,
    /// long enough to kill, restart or add a worker mid-run, short enough for the suite.
    static let pace = 100

    override func setUpWithError() throws {
        cluster = try TestCluster(name: "train")
        fixture = try TrainingFixture(cluster: cluster)
        setenv("UNIGUARD_POLICIES", ClusterBinaries.packageRoot.appendingPathComponent("policies").path, 1)
    }

    override func tearDown() {
        if let cluster, (testRun?.failureCount ?? 0) + (testRun?.unexpectedExceptionCount ?? 0) > 0 { print(cluster.logs) }
        cluster?.shutdown()
    }

    func testTwoWorkerPretrainMatchesOneProcessAndFetchesOnlyRecordRanges() throws {
        let local = try fixture.localPretrain("local", steps: 8, batch: 4, checkpointEvery: 4)
        try cluster.startCoordinator()
        try fixture.startWorker("w1")
        try fixture.startWorker("w2")
        let (jobFile, output) = try fixture.pretrainJob("gip", steps: 8, batch: 4, checkpointEvery: 4, workers: 2)
        let id = try cluster.submit(jobFile)
        let job = try cluster.waitForJob(id, timeout: 180)
        XCTAssertEqual(job["state"] as? String, "done", "\(job)")
        XCTAssertEqual(job["step"] as? Int, 8)
        let difference = try TrainingFixture.maxDifference(output, local)
        let moved = try TrainingFixture.maxDifference(local, fixture.base, sharedOnly: true)
        print("pretrain 2 workers vs one process: max |Δparam| = \(difference) (training moved parameters by up to \(moved))")
        XCTAssertLessThanOrEqual(difference, Self.tolerance)
        XCTAssertGreaterThan(moved, 10 * Self.tolerance, "training must move the parameters well beyond the tolerance")
        for file in ["config.json", "vocab.txt", "uniguard.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(output)/\(file)"), "the exported model lacks \(file)")
        }
        // The export records what `uniguard pretrain` records: the corpus's policies (what `calibrate` reads) and the recipe.
        func metadata(_ dir: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/uniguard.json"))) as? [String: Any] ?? [:]
        }
        let exported = try metadata(output), mine = try metadata(local)
        let policies = ((exported["pretraining"] as? [String: Any])?["policies"] as? [String]) ?? []
        XCTAssertFalse(policies.isEmpty, "\(exported)")
        XCTAssertEqual(policies, (mine["pretraining"] as? [String: Any])?["policies"] as? [String])
        XCTAssertEqual((exported["recipe"] as? [String: Any])?["trainSHA256"] as? String ?? "-", (mine["recipe"] as? [String: Any])?["trainSHA256"] as? String)
        // Neither worker holds the corpus whole: only the records its rank read, fetched by byte range.
        for worker in ["w1", "w2"] {
            let held = try fixture.corpusBytesCached(worker: worker)
            XCTAssertFalse(held.wholeCorpus, "\(worker) downloaded the whole corpus")
            XCTAssertGreaterThan(held.records, 0, "\(worker) fetched no records")
            XCTAssertLessThan(held.records, fixture.corpusSize, "\(worker) fetched as many bytes as the whole corpus")
        }
    }

    /// With `advertise_shared_paths` and the corpus readable at the coordinator's path, ranks read records in place.
    func testSharedFilesystemCorpusIsReadInPlace() throws {
        let local = try fixture.localPretrain("local", steps: 4, batch: 4, checkpointEvery: 4)
        let config = try String(contentsOfFile: cluster.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "[storage]\n", with: "[storage]\nadvertise_shared_paths = true\n")
            .write(toFile: cluster.configPath, atomically: true, encoding: .utf8)
        try cluster.startCoordinator()
        try fixture.startWorker("w1")
        try fixture.startWorker("w2")
        let (jobFile, output) = try fixture.pretrainJob("gip", steps: 4, batch: 4, checkpointEvery: 4, workers: 2)
        let id = try cluster.submit(jobFile)
        let job = try cluster.waitForJob(id, timeout: 180)
        XCTAssertEqual(job["state"] as? String, "done", "\(job)")
        XCTAssertLessThanOrEqual(try TrainingFixture.maxDifference(output, local), Self.tolerance)
        for worker in ["w1", "w2"] {
            let held = try fixture.corpusBytesCached(worker: worker)
            XCTAssertFalse(held.wholeCorpus, "\(worker) downloaded the corpus it can read in place")
            XCTAssertEqual(held.records, 0, "\(worker) fetched records it can read in place")
        }
    }

    func testTwoWorkerFinetuneMatchesOneProcess() throws {
        let local = try fixture.localFinetune("local-ft", epochs: 2, batch: 4)
        try cluster.startCoordinator()
        try fixture.startWorker("w1")
        try fixture.startWorker("w2")
        let (jobFile, output) = try fixture.finetuneJob("ft", epochs: 2, batch: 4, workers: 2)
        let id = try cluster.submit(jobFile)
        let job = try cluster.waitForJob(id, timeout: 180)
        XCTAssertEqual(job["state"] as? String, "done", "\(job)")
        let difference = try TrainingFixture.maxDifference(output, local)
        let moved = try TrainingFixture.maxDifference(local, fixture.base, sharedOnly: true)
        print("finetune 2 workers vs one process: max |Δparam| = \(difference) (training moved parameters by up to \(moved))")
        XCTAssertLessThanOrEqual(difference, Self.tolerance)
        XCTAssertGreaterThan(moved, 10 * Self.tolerance)
        // The exported model carries the threshold chosen on validation at the last step, as `uniguard train`'s does.
        func metadata(_ dir: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/uniguard.json"))) as? [String: Any] ?? [:]
        }
        let exported = try metadata(output), mine = try metadata(local)
        let calibration = try XCTUnwrap(exported["calibration"] as? [String: Any], "\(exported)")
        XCTAssertEqual(calibration["target_fpr"] as? Double, 0.2)
        XCTAssertEqual(calibration["samples"] as? Int, (mine["calibration"] as? [String: Any])?["samples"] as? Int)
        XCTAssertEqual(exported["threshold"] as? Double ?? -1, mine["threshold"] as? Double ?? -2, accuracy: 1e-3)
    }

    /// kill -9 of a rank: the survivors re-rendezvous from the last committed checkpoint and end on the undisturbed
    /// run's numbers.
    func testWorkerKilledMidRunJobFinishesWithoutLosingCommittedSteps() throws {
        let steps = 30
        let local = try fixture.localPretrain("local", steps: steps, batch: 4, checkpointEvery: 5)
        try cluster.startCoordinator()
        try fixture.startWorker("w1", stepDelayMs: Self.pace)
        let victim = try fixture.startWorker("w2", stepDelayMs: Self.pace)
        let (jobFile, output) = try fixture.pretrainJob("gip", steps: steps, batch: 4, checkpointEvery: 5, workers: 2)
        let id = try cluster.submit(jobFile)
        try waitUntil("a committed checkpoint", timeout: 120, every: 0.05) { try fixture.committedStep(id) >= 5 }
        let committedBefore = try fixture.committedStep(id)
        victim.kill9()
        let job = try cluster.waitForJob(id, timeout: 240)
        XCTAssertEqual(job["state"] as? String, "done", "\(job)")
        XCTAssertGreaterThanOrEqual(try fixture.committedStep(id), committedBefore)
        XCTAssertGreaterThanOrEqual(job["generation"] as? Int ?? 0, 2, "a new generation formed after the kill")
        let difference = try TrainingFixture.maxDifference(output, local)
        print("pretrain with a worker killed at committed step \(committedBefore) vs undisturbed one process: max |Δparam| = \(difference)")
        XCTAssertLessThanOrEqual(difference, Self.tolerance)
    }

    /// kill -9 of the coordinator: restarted on the same endpoint, it continues from the last committed checkpoint.
    func testCoordinatorKilledMidRunJobFinishesAfterRestart() throws {
        let steps = 30
        let local = try fixture.localPretrain("local", steps: steps, batch: 4, checkpointEvery: 5)
        let coordinator = try cluster.startCoordinator()
        let endpoint = cluster.endpoint
        try fixture.startWorker("w1", stepDelayMs: Self.pace)
        try fixture.startWorker("w2", stepDelayMs: Self.pace)
        let (jobFile, output) = try fixture.pretrainJob("gip", steps: steps, batch: 4, checkpointEvery: 5, workers: 2)
        let id = try cluster.submit(jobFile)
        try waitUntil("a committed checkpoint", timeout: 120, every: 0.05) { try fixture.committedStep(id) >= 5 }
        coordinator.kill9()
        try cluster.startCoordinator(bind: endpoint)
        let job = try cluster.waitForJob(id, timeout: 240)
        XCTAssertEqual(job["state"] as? String, "done", "\(job)")
        let difference = try TrainingFixture.maxDifference(output, local)
        print("pretrain with the coordinator killed and restarted vs one process: max |Δparam| = \(difference)")
        XCTAssertLessThanOrEqual(difference, Self.tolerance)
    }

    /// A worker that registers while a job runs joins at the generation formed after the next commit.
    func testWorkerJoiningMidRunJoinsALaterGeneration() throws {
        let steps = 30
        let local = try fixture.localPretrain("local", steps: steps, batch: 4, checkpointEvery: 5)
        try cluster.startCoordinator()
        try fixture.startWorker("w1", stepDelayMs: Self.pace)
        let (jobFile, output) = try fixture.pretrainJob("gip", steps: steps, batch: 4, checkpointEvery: 5, workers: 1)
        let id = try cluster.submit(jobFile)
        try fixture.waitForStep(id, atLeast: 1, timeout: 120)
        try fixture.startWorker("w2", stepDelayMs: Self.pace)
        var ranks: [String] = []
        try waitUntil("w2 ranked in a generation", timeout: 120, every: 0.05) {
            let job = try cluster.job(id)
            ranks = ((job["workers"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
            return ranks.contains("w2") || ["done", "failed", "cancelled"].contains(job["state"] as? String ?? "")
        }
        XCTAssertEqual(Set(ranks), ["w1", "w2"], "the joiner runs beside the first worker")
        let job = try cluster.waitForJob(id, timeout: 240)
        XCTAssertEqual(job["state"] as? String, "done", "\(job)")
        XCTAssertGreaterThanOrEqual(job["generation"] as? Int ?? 0, 2)
        let difference = try TrainingFixture.maxDifference(output, local)
        print("pretrain 1 → 2 workers mid-run vs one process: max |Δparam| = \(difference)")
        XCTAssertLessThanOrEqual(difference, Self.tolerance)
    }

    /// A corpus changed on the coordinator after it was indexed (same size, other bytes): the ranks' records no
    /// longer decode, and the task says which record and why instead of training on garbage.
    func testCorruptedCorpusRecordsFailTheTaskWithTheirRow() throws {
        try cluster.startCoordinator()
        let (jobFile, _) = try fixture.pretrainJob("gip", steps: 8, batch: 4, checkpointEvery: 4, workers: 1)
        let id = try cluster.submit(jobFile)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: fixture.corpus))
        for i in bytes.indices where bytes[i] == UInt8(ascii: "{") { bytes[i] = UInt8(ascii: "[") }
        try bytes.write(to: URL(fileURLWithPath: fixture.corpus))
        try fixture.startWorker("w1")
        let job = try cluster.waitForJob(id, timeout: 120)
        XCTAssertEqual(job["state"] as? String, "failed", "\(job)")
        let message = job["message"] as? String ?? ""
        XCTAssertTrue(message.contains("does not decode") && message.contains("corpus row"), message)
    }

    /// The gradient address is checked on the command line, before anything binds to it.
    func testDataAddressMustBeAnIPv4Address() throws {
        for bad in ["", "not-an-address", "10.0.0.256", "::1"] {
            let run = try ProcessRun(cluster.bin + "/worker", ["--coordinator", "tcp://127.0.0.1:1", "--data-addr", bad])
            run.assertUsageError(naming: "--data-addr", usage: "")
        }
    }

    /// `coordinator cancel`: every rank stops at a step boundary and frees its slot; the workers keep serving.
    func testCancelStopsEveryRank() throws {
        try cluster.startCoordinator()
        let w1 = try fixture.startWorker("w1")
        let w2 = try fixture.startWorker("w2")
        let (jobFile, output) = try fixture.pretrainJob("gip", steps: 100_000, batch: 4, checkpointEvery: 50, workers: 2)
        let id = try cluster.submit(jobFile)
        try fixture.waitForStep(id, atLeast: 2, timeout: 120)
        let cancelled = try cluster.client(["cancel", id])
        XCTAssertEqual(cancelled.status, 0, cancelled.err)
        let job = try cluster.waitForJob(id, timeout: 30)
        XCTAssertEqual(job["state"] as? String, "cancelled")
        try waitUntil("both workers free", timeout: 30, every: 0.1) {
            try cluster.runningTasks(of: "w1") == 0 && cluster.runningTasks(of: "w2") == 0
        }
        XCTAssertTrue(w1.isRunning && w2.isRunning, "a cancel must not take a worker down")
        try waitUntil("the ranks' threads stopped", timeout: 30, every: 0.1) {
            w1.log.contains("stopped (cancelled)") && w2.log.contains("stopped (cancelled)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output + "/model.safetensors"), "a cancelled job exports nothing")
    }
}
