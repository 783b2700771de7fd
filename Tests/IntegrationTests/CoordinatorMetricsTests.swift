@testable import Cluster
import Foundation
import Runtime
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// `[metrics] listen` on a real `coordinator serve`: GET /metrics in Prometheus text format, with values that follow
/// real workers, a merge-search job, training progress and rejected results; a bad listen value or a port in use
/// stops the coordinator with an error naming what to fix.
final class CoordinatorMetricsTests: XCTestCase {
    private var clusters: [TestCluster] = []
    override func tearDown() {
        for cluster in clusters { cluster.shutdown() }
        clusters = []
    }

    /// `liveness` is the coordinator's: ranks played by the test stay silent while the test scrapes.
    private func cluster(_ name: String, listen: String = "127.0.0.1:0", liveness: Int = TestCluster.liveness) throws -> TestCluster {
        let cluster = try TestCluster(name: name, limits: "[metrics]\nlisten = \"\(listen)\"", liveness: liveness)
        clusters.append(cluster)
        return cluster
    }

    func testMetricsFollowAWorkerAndAMergeSearchJob() throws {
        let c = try cluster("metrics-merge")
        try c.startCoordinator()
        let metrics = try MetricsPage(cluster: c)
        var page = try metrics.scrape()
        XCTAssertEqual(page["uniguard_coordinator_workers_live"], 0, page.text)
        XCTAssertEqual(page["uniguard_coordinator_arms_evaluated_total"], 0, page.text)
        XCTAssertEqual(page["uniguard_coordinator_leases_outstanding"], 0, page.text)
        XCTAssertEqual(page[#"uniguard_coordinator_jobs{kind="merge-search",state="running"}"#], 0, page.text)
        XCTAssertEqual(page[#"uniguard_coordinator_result_rejections_total{reason="stale_attempt"}"#], 0, page.text)
        XCTAssertTrue(page.text.contains("# TYPE uniguard_coordinator_store_commit_seconds histogram"), page.text)
        let commitsAtStart = page["uniguard_coordinator_store_commit_seconds_count"] ?? 0

        let worker = try c.startWorker("metrics-w1")
        page = try metrics.waitFor("a live worker") { $0["uniguard_coordinator_workers_live"] == 1 }
        XCTAssertEqual(page["uniguard_coordinator_worker_slots"], 1, page.text)

        // Four arms of two shards, each evaluation at least 400 ms: the worker holds a lease most of the time.
        let job = try c.submit(try c.writeJob(iterations: 4, shards: 2, minMs: 400))
        page = try metrics.waitFor("a lease outstanding", timeout: 60) { $0["uniguard_coordinator_leases_outstanding"] == 1 }
        XCTAssertEqual(page[#"uniguard_coordinator_jobs{kind="merge-search",state="running"}"#], 1, page.text)
        XCTAssertEqual(try c.waitForJob(job, timeout: 120)["state"] as? String, "done", c.logs)
        page = try metrics.waitFor("the job done in the metrics") {
            $0[#"uniguard_coordinator_jobs{kind="merge-search",state="done"}"#] == 1 && $0["uniguard_coordinator_arms_evaluated_total"] == 4
        }
        XCTAssertEqual(page[#"uniguard_coordinator_jobs{kind="merge-search",state="running"}"#], 0, page.text)
        XCTAssertEqual(page["uniguard_coordinator_leases_outstanding"], 0, page.text)
        XCTAssertEqual(page["uniguard_coordinator_tasks_queued"], 0, page.text)
        // Submission, every dispatch, every result and the export are committed transactions.
        XCTAssertGreaterThanOrEqual((page["uniguard_coordinator_store_commit_seconds_count"] ?? 0) - commitsAtStart, 10, page.text)
        XCTAssertGreaterThan(page["uniguard_coordinator_store_commit_seconds_sum"] ?? 0, 0, page.text)

        // The worker leaves: the gauge goes back to 0; the counter keeps its count.
        worker.terminate()
        page = try metrics.waitFor("no live worker") { $0["uniguard_coordinator_workers_live"] == 0 }
        XCTAssertEqual(page["uniguard_coordinator_arms_evaluated_total"], 4, page.text)

        // Only GET /metrics is served; the scrape never blocked the job (it finished above with scrapes every 100 ms).
        XCTAssertEqual(try MetricsPage.get(metrics.url.deletingLastPathComponent().appendingPathComponent("other")).status, 404)
        let post = try MetricsPage.get(metrics.url, method: "POST")
        XCTAssertEqual(post.status, 405)
        XCTAssertEqual(post.allow, "GET, HEAD")
    }

    func testRejectedResultsAreCountedByReason() throws {
        let c = try cluster("metrics-reject")
        try c.startCoordinator()
        let metrics = try MetricsPage(cluster: c)
        let fake = try FakeWorker("metrics-fake", endpoint: c.endpoint)
        try fake.register()
        _ = try c.submit(try c.writeJob(iterations: 2, shards: 2, minMs: 0))
        let assignment = try fake.nextAssignment()
        // An attempt the lease does not hold, then counts that cannot be true for the shard (60 lines): both refused.
        try fake.report(assignment.taskID, attempt: assignment.attempt + 1, tp: 1, tn: 59)
        try fake.report(assignment.taskID, attempt: assignment.attempt, tp: 1_000, tn: 5)
        var page = MetricsPage.Scrape(text: "")
        try fake.waitUntil("both rejections in the metrics") {
            page = try metrics.scrape()
            return page[#"uniguard_coordinator_result_rejections_total{reason="stale_attempt"}"#] == 1
                && page[#"uniguard_coordinator_result_rejections_total{reason="invalid_result"}"#] == 1
        }
        XCTAssertEqual(page[#"uniguard_coordinator_result_rejections_total{reason="not_holder"}"#], 0, page.text)
        XCTAssertEqual(page["uniguard_coordinator_arms_evaluated_total"], 0, page.text)
    }

    func testTrainingProgressBecomesPerJobGaugesThatEndWithTheJob() throws {
        let c = try cluster("metrics-train", liveness: 100)
        try c.startCoordinator()
        let metrics = try MetricsPage(cluster: c)
        let job = try c.submit(try c.writePretrainJob(steps: 4, checkpointEvery: 2, workers: 2))
        let a = try FakeWorker("w-a", endpoint: c.endpoint), b = try FakeWorker("w-b", endpoint: c.endpoint)
        try a.register()
        try b.register()
        let ta = try a.nextTrainTask(), tb = try b.nextTrainTask()
        try a.progress(ta.taskID, step: 1, loss: 4.5)
        try b.progress(tb.taskID, step: 1, loss: 4.5)
        let labels = #"{job_id="\#(job)",kind="pretrain"}"#
        var page = MetricsPage.Scrape(text: "")
        try a.waitUntil("training gauges") {
            page = try metrics.scrape()
            return page["uniguard_coordinator_training_step" + labels] == 1
        }
        XCTAssertEqual(page["uniguard_coordinator_training_loss" + labels], 4.5, page.text)
        XCTAssertEqual(page["uniguard_coordinator_training_steps" + labels], 4, page.text)
        XCTAssertEqual(page["uniguard_coordinator_training_ranks" + labels], 2, page.text)
        XCTAssertEqual(page["uniguard_coordinator_training_step_seconds" + labels], 0.12, page.text)
        XCTAssertEqual(page["uniguard_coordinator_training_allreduce_seconds" + labels], 0.02, page.text)
        XCTAssertEqual(page["uniguard_coordinator_training_samples_per_second" + labels], 8, page.text)
        XCTAssertEqual(page["uniguard_coordinator_leases_outstanding"], 2, page.text)
        XCTAssertEqual(page[#"uniguard_coordinator_jobs{kind="pretrain",state="running"}"#], 1, page.text)
        // Every series the Grafana dashboard queries exists on the page (histograms by their _bucket/_sum/_count).
        let dashboard = try String(contentsOf: ClusterBinaries.packageRoot.appendingPathComponent("deploy/grafana/uniguard-coordinator.json"), encoding: .utf8)
        let queried = Set(dashboard.matches(of: #/uniguard_coordinator_[a-z_]+/#).map { String($0.output) })
        XCTAssertGreaterThanOrEqual(queried.count, 12)
        for name in queried {
            let family = name.replacing(#/_(bucket|sum|count)$/#, with: "")
            XCTAssertTrue(page.text.contains("# TYPE \(family) ") || page.text.contains("# TYPE \(name) "), "the dashboard queries \(name)")
        }

        // w-b finishing rank 0's task is not the holder's result.
        try b.finish(ta.taskID, step: 4, parametersHash: String(repeating: "ab", count: 32))
        try a.progress(ta.taskID, step: 2, loss: 3.25)
        try a.waitUntil("the rejection and the new loss") {
            page = try metrics.scrape()
            return page[#"uniguard_coordinator_result_rejections_total{reason="not_holder"}"#] == 1
                && page["uniguard_coordinator_training_loss" + labels] == 3.25
        }

        // Cancelled: its series go, the job counts as cancelled.
        XCTAssertEqual(try c.client(["cancel", job]).status, 0)
        try a.waitUntil("the training series gone") {
            page = try metrics.scrape()
            return page["uniguard_coordinator_training_loss" + labels] == nil
                && page[#"uniguard_coordinator_jobs{kind="pretrain",state="cancelled"}"#] == 1
        }
        XCTAssertEqual(page[#"uniguard_coordinator_jobs{kind="pretrain",state="running"}"#], 0, page.text)
        XCTAssertFalse(page.text.contains("uniguard_coordinator_training_"), page.text)
    }

    func testMalformedListenValueStopsTheCoordinatorNamingFileLineAndKey() throws {
        let bin = try ClusterBinaries.require()
        let c = try cluster("metrics-bad", listen: "127.0.0.1")
        let run = try ProcessRun("\(bin)/coordinator", ["serve", "--config", c.configPath])
        XCTAssertNotEqual(run.status, 0)
        let line = try XCTUnwrap(try String(contentsOfFile: c.configPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.hasPrefix("listen") }) + 1
        XCTAssertTrue(run.err.contains("\(c.configPath):\(line): key 'metrics.listen': '127.0.0.1' has no port; expected host:port"), run.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(c.root)/var/coordinator.sqlite.endpoint"), "it must not start")
    }

    func testPortInUseStopsTheCoordinatorWithTheAddress() throws {
        let first = try cluster("metrics-first")
        try first.startCoordinator()
        let port = try XCTUnwrap(try MetricsPage(cluster: first).url.port)
        let second = try cluster("metrics-second", listen: "127.0.0.1:\(port)")
        let bin = try ClusterBinaries.require()
        let run = try ProcessRun("\(bin)/coordinator", ["serve", "--config", second.configPath])
        XCTAssertEqual(run.status, 1, run.err)
        XCTAssertTrue(run.err.contains("cannot serve metrics on 127.0.0.1:\(port) ([metrics] listen in the cluster config): the address is in use"), run.err)
        // The first one still answers.
        XCTAssertNotNil(try MetricsPage(cluster: first).scrape()["uniguard_coordinator_workers_live"])
    }
}

/// The coordinator's metrics page: its URL (from `<database>.metrics-endpoint`) and parsed scrapes.
struct MetricsPage {
    let url: URL

    init(cluster: TestCluster) throws {
        let file = "\(cluster.root)/var/coordinator.sqlite.metrics-endpoint"
        let text = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        url = try XCTUnwrap(URL(string: text), text)
    }

    /// One scrape's samples by series (name plus labels, as written).
    struct Scrape {
        let text: String
        subscript(series: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
        }
    }

    func scrape() throws -> Scrape {
        let (status, body, type, _) = try Self.get(url)
        guard status == 200 else { throw TestFailure("GET \(url): \(status)") }
        XCTAssertTrue(type.hasPrefix("text/plain; version=0.0.4"), type)
        return Scrape(text: body)
    }

    /// Scrapes every 100 ms until `condition` holds; the last scrape.
    func waitFor(_ what: String, timeout: TimeInterval = 30, _ condition: (Scrape) -> Bool) throws -> Scrape {
        var last = Scrape(text: "")
        do {
            try waitUntil(what, timeout: timeout, every: 0.1) {
                last = try scrape()
                return condition(last)
            }
        } catch { throw TestFailure("\(error); last scrape:\n\(last.text)") }
        return last
    }

    /// A real HTTP exchange (GET unless told): status, body, content type and `Allow`.
    static func get(_ url: URL, method: String = "GET") throws -> (status: Int, body: String, type: String, allow: String?) {
        let done = DispatchSemaphore(value: 0)
        let result = Guarded<Result<(Int, String, String, String?), any Error>>(.failure(TestFailure("no answer from \(url)")))
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 10
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { result.value = .failure(error) } else {
                let http = response as? HTTPURLResponse
                result.value = .success((http?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self),
                                   http?.value(forHTTPHeaderField: "Content-Type") ?? "", http?.value(forHTTPHeaderField: "Allow")))
            }
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 15)
        return try result.value.get()
    }
}
