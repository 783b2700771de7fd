@testable import Cluster
import Foundation
import GuardData
import LLMStandIn
import XCTest

/// `kind: synthesize` jobs with real processes: a coordinator and workers (UNIGUARD_BIN) against the LLM stand-in
/// (the real chat-completions protocol over HTTP on loopback, in this process). The output must hold exactly `count`
/// samples per policy and label, none twice, through a worker killed mid-batch, a coordinator killed and restarted,
/// and a worker that lies about its batches. Embedding dedup, refine_policy: ClusterSynthesisDedupTests.
final class ClusterSynthesisTests: ClusterSynthesisTestCase {
    func testJobCompletesWithTheRequestedCountsAndNoDuplicates() async throws {
        let s = try await start()
        let c = try TestCluster(name: "synth")
        cluster = c
        do {
            try c.startCoordinator()
            try c.startWorker("w1", slots: 2)
            try c.startWorker("w2", slots: 2)
            try waitUntil("both workers registered", timeout: 30, every: 0.1) { try c.workerIDs() == ["w1", "w2"] }
            let job = try c.submit(try writeJob(c, endpoint: s.endpoint, count: 10, batch: 4, extra: "embedding_dedup: false"))
            let finished = try c.waitForJob(job, timeout: 120)
            XCTAssertEqual(finished["state"] as? String, "done", "\(finished)")
            XCTAssertEqual(finished["accepted"] as? Int, 40)
            XCTAssertEqual(finished["target"] as? Int, 40)
            try assertExactOutput("\(c.root)/out/samples.jsonl", count: 10)
            // Every prompt the stand-in wrote is accounted for: accepted, a duplicate of an accepted one, or surplus.
            let policies = finished["policies"] as? [[String: Any]] ?? []
            XCTAssertEqual(policies.count, 2)
            for p in policies {
                let generated = p["generated"] as? Int ?? -1
                let accounted = (p["accepted"] as? Int ?? 0) + (p["duplicates"] as? Int ?? 0) + (p["surplus"] as? Int ?? 0)
                XCTAssertEqual(generated, accounted, "\(p)")
                XCTAssertEqual(p["near_duplicates"] as? Int, 0, "embedding_dedup: false")
            }
            XCTAssertTrue(finished["embedding_dedup"] is NSNull)
            XCTAssertGreaterThan(finished["duplicates"] as? Int ?? 0, 0, "the stand-in repeats one prompt in six: some must be caught")
            XCTAssertGreaterThan(finished["requests"] as? Int ?? 0, 0)
            XCTAssertGreaterThan(finished["prompt_tokens"] as? Int ?? 0, 0)
            XCTAssertEqual(finished["batches_done"] as? Int, finished["batches_total"] as? Int)
            // Both workers ran batches; the API key went from each worker's environment to the server, nowhere else.
            let log = c.coordinator!.log
            XCTAssertTrue(log.contains("from w1:") && log.contains("from w2:"), log)
            let database = try Data(contentsOf: URL(fileURLWithPath: "\(c.root)/var/coordinator.sqlite"))
            XCTAssertNil(database.range(of: Data(Self.key.utf8)), "the API key reached the coordinator's store")
            XCTAssertFalse(log.contains(Self.key))
            // Status as people read it.
            let text = try c.client(["status", job])
            XCTAssertTrue(text.out.contains("SYNTHESIS \(job)") && text.out.contains("tax_advice"), text.out)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// A worker killed (-9) in the middle of a batch: its lease goes back to the queue and another worker runs it; then
    /// the coordinator is killed (-9) and restarted: the output is rebuilt from the store. Nothing lost, nothing twice.
    /// (With embedding dedup: ClusterSynthesisDedupTests.)
    func testWorkerAndCoordinatorKilledMidJobLoseNothingAndDuplicateNothing() async throws {
        var behaviour = StandInBehaviour()
        behaviour.every = [(n: 1, fault: .slow(seconds: 0.4))]
        let s = try await start(behaviour)
        let c = try TestCluster(name: "synth-kill")
        cluster = c
        do {
            try c.startCoordinator()
            let job = try c.submit(try writeJob(c, endpoint: s.endpoint, count: 12, batch: 3, concurrency: 1, extra: "embedding_dedup: false"))
            let victim = try c.startWorker("victim", slots: 1)
            try waitUntil("the victim holds a batch", timeout: 30, every: 0.1) { try c.runningTasks(of: "victim") > 0 }
            try c.startWorker("survivor", slots: 1)
            // Mid-request (every reply takes 0.4 s and a batch makes two).
            try await Task.sleep(nanoseconds: 300_000_000)
            victim.kill9()
            try waitUntil("a few batches committed", timeout: 60, every: 0.2) { (try c.job(job)["batches_done"] as? Int ?? 0) >= 4 }
            c.coordinator!.kill9()
            try await Task.sleep(nanoseconds: 500_000_000)
            try c.startCoordinator(bind: c.endpoint)
            let finished = try c.waitForJob(job, timeout: 180)
            XCTAssertEqual(finished["state"] as? String, "done", "\(finished)")
            try assertExactOutput("\(c.root)/out/samples.jsonl", count: 12)
            let logs = c.processes.filter { $0.name.hasPrefix("coordinator") }.map(\.log).joined()
            XCTAssertTrue(logs.contains("requeued") || logs.contains("leases expired"), "the victim's batch went back to the queue")
            XCTAssertTrue(c.coordinator!.log.contains("resumed \(job) (synthesize)"), c.coordinator!.log)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// The endpoint failing a batch past its retries (HTTP 500 three times, max_retries 2) is a task error: the batch
    /// goes back to the queue, another worker runs it, and the job still ends with exactly its counts.
    func testEndpointFailureIsATaskErrorAndTheBatchIsRetried() async throws {
        var behaviour = StandInBehaviour()
        behaviour.schedule = [1: .serverError, 2: .serverError, 3: .serverError]
        let s = try await start(behaviour)
        let c = try TestCluster(name: "synth-endpoint")
        cluster = c
        do {
            try c.startCoordinator()
            try c.startWorker("first", slots: 1)
            try waitUntil("the first worker registered", timeout: 30, every: 0.1) { try c.workerIDs() == ["first"] }
            let job = try c.submit(try writeJob(c, endpoint: s.endpoint, count: 4, batch: 2, concurrency: 1, extra: "embedding_dedup: false"))
            try waitUntil("the batch failed on the first worker", timeout: 60, every: 0.1) {
                c.coordinator!.log.contains("task \(job)/batch-1 failed on first")
            }
            XCTAssertTrue(c.coordinator!.log.contains("gave up after 3 attempts"), c.coordinator!.log)
            try c.startWorker("second", slots: 1)
            let finished = try c.waitForJob(job, timeout: 120)
            XCTAssertEqual(finished["state"] as? String, "done", "\(finished)")
            try assertExactOutput("\(c.root)/out/samples.jsonl", count: 4)
            XCTAssertTrue(c.coordinator!.log.contains("batch 1 (") , "batch 1 was committed after its retry")
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// A registered worker that lies: more samples than the batch asked for, samples of another policy, a result for a
    /// batch leased to nobody (queued) and for a stale attempt. None counts; an honest worker then finishes the job.
    func testLyingWorkerIsRejected() async throws {
        let s = try await start()
        let c = try TestCluster(name: "synth-liar")
        cluster = c
        do {
            try c.startCoordinator()
            let job = try c.submit(try writeJob(c, endpoint: s.endpoint, count: 4, batch: 2, concurrency: 2, extra: "embedding_dedup: false"))
            let liar = try FakeWorker("liar", endpoint: c.endpoint)
            try liar.register(slots: 2)
            let first = try liar.nextAssignment()
            let second = try liar.nextAssignment()
            XCTAssertEqual(first.synthBatch.count, 2)
            func line(_ policy: String, _ task: Uniguard_V1_SynthBatchTask, _ n: Int) -> String {
                SampleCodec.encode(Sample(policy: policy, prompt: "LIE \(n) \(task.sequence)", rationale: "made up",
                                          label: SafetyLabel(rawValue: task.label)!,
                                          source: "synth:stand-in#\(task.policyID)/\(task.label)/\(task.sequence)"))
            }
            func lie(_ a: Uniguard_V1_TaskAssignment, attempt: UInt32, lines: [String], accepted: UInt32) throws {
                var r = Uniguard_V1_SynthBatchResult()
                r.accepted = accepted
                r.generated = accepted
                var result = Uniguard_V1_TaskResult()
                result.taskID = a.taskID
                result.attempt = attempt
                result.synthBatch = r
                try liar.send(.taskResult(result), rawFrames: [Data(lines.map { $0 + "\n" }.joined().utf8)])
            }
            // Three samples for a batch of two.
            try lie(first, attempt: first.attempt, lines: (0..<3).map { line(first.synthBatch.policyID, first.synthBatch, $0) }, accepted: 3)
            // Samples of another policy, with a count that fits.
            let other = first.synthBatch.policyID == "safety" ? "tax_advice" : "safety"
            try lie(second, attempt: second.attempt + 1, lines: (0..<2).map { line(other, second.synthBatch, $0) }, accepted: 2)
            try lie(second, attempt: second.attempt, lines: (0..<2).map { line(other, second.synthBatch, $0) }, accepted: 2)
            try waitUntil("the lies rejected", timeout: 15) {
                let log = c.coordinator!.log
                return log.contains("in a batch of 2; result rejected") && log.contains("the lease was granted again since")
                    && log.contains("not this batch's")
            }
            // The first batch is queued again for someone else: the liar's word about it counts for nothing.
            try lie(first, attempt: first.attempt, lines: (0..<2).map { line(first.synthBatch.policyID, first.synthBatch, $0) }, accepted: 2)
            liar.held.removeAll()
            try liar.goodbye()
            try c.startWorker("honest", slots: 2)
            let finished = try c.waitForJob(job, timeout: 120)
            XCTAssertEqual(finished["state"] as? String, "done", "\(finished)")
            try assertExactOutput("\(c.root)/out/samples.jsonl", count: 4)
            XCTAssertFalse(try samples("\(c.root)/out/samples.jsonl").contains { $0.prompt.hasPrefix("LIE ") })
            XCTAssertTrue(c.coordinator!.isRunning)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// Bad job files are refused at submission with the file's key named.
    func testBadJobFilesNameTheKey() async throws {
        let c = try TestCluster(name: "synth-bad")
        cluster = c
        try c.startCoordinator()
        let cases: [(String, String)] = [
            ("count: 0", "count: 0 is out of range"),
            ("count: 5\nbatch_size: 3", "batch_size: unknown key"),
            ("count: 5\napi_key_env: sk-live-123", "api_key_env: 'sk-live-123' is not an environment variable name"),
            ("count: 5\ntemperature: 9", "temperature: 9.0 is out of range"),
            ("count: 5\nnear_dup_threshold: 1.5", "near_dup_threshold: 1.5 is out of range"),
            ("count: 5\nembedding_dedup: false\nnear_dup_window: 10", "near_dup_window: needs embedding_dedup: true"),
            ("count: 5\nreflection: false\nrefine_policy: true", "refine_policy: needs reflection: true"),
            ("count: 5\nembed_model: /nonexistent/encoder", "embed_model: /nonexistent/encoder is not a usable encoder"),
        ]
        for (i, (body, expected)) in cases.enumerated() {
            let path = "\(c.root)/bad-\(i).yaml"
            try """
                kind: synthesize
                policies: [safety]
                endpoint: http://127.0.0.1:9/v1
                model: m
                \(body)
                """.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try c.client(["submit", path])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.err.contains(expected), "\(expected) in: \(result.err)")
        }
        let missing = "\(c.root)/bad-policy.yaml"
        try "kind: synthesize\npolicies: [nope.yaml]\nendpoint: http://127.0.0.1:9/v1\nmodel: m\ncount: 1\n".write(toFile: missing, atomically: true, encoding: .utf8)
        let result = try c.client(["submit", missing])
        XCTAssertTrue(result.err.contains("policies[0]") && result.err.contains("nope.yaml"), result.err)
        // A valid job waiting for workers can be cancelled; its output stays, empty, and a second job may not take it.
        let job = try c.submit(try writeJob(c, endpoint: "http://127.0.0.1:9/v1", count: 2, batch: 2, extra: "embedding_dedup: false"))
        let again = try c.client(["submit", "\(c.root)/jobs/synth.yaml"])
        XCTAssertTrue(again.err.contains("output") && again.err.contains("still running"), again.err)
        XCTAssertEqual(try c.client(["cancel", job]).status, 0)
        let cancelled = try c.job(job)
        XCTAssertEqual(cancelled["state"] as? String, "cancelled")
        XCTAssertEqual(cancelled["accepted"] as? Int, 0)
        XCTAssertEqual(try String(contentsOfFile: "\(c.root)/out/samples.jsonl", encoding: .utf8), "")
        XCTAssertTrue(c.coordinator!.isRunning)
    }
}
