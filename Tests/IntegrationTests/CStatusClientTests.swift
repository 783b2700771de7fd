import Foundation
import XCTest

/// The C client (clients/c, protobuf-c + libzmq) built with its Makefile and run against a live coordinator,
/// in plain text and under CURVE: it prints the same status JSON the coordinator's own client gets.
final class CStatusClientTests: XCTestCase {
    private var cluster: TestCluster?
    private var buildDir: String?

    override func tearDown() {
        cluster?.shutdown()
        cluster = nil
        if let buildDir { try? FileManager.default.removeItem(atPath: buildDir) }
    }

    /// Builds `uniguard-status` into a temporary directory; returns its path.
    private func buildClient() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uniguard-c-\(UUID().uuidString.prefix(8))").path
        buildDir = dir
        let source = ClusterBinaries.packageRoot.appendingPathComponent("clients/c").path
        let make = try ProcessRun("/usr/bin/make", ["-s", "-C", source, "BUILD=\(dir)"])
        XCTAssertEqual(make.status, 0, "make failed:\n\(make.out)\n\(make.err)")
        let tool = "\(dir)/uniguard-status"
        guard FileManager.default.isExecutableFile(atPath: tool) else { throw TestFailure("make built no \(tool):\n\(make.err)") }
        return tool
    }

    private func workers(_ json: String) throws -> [String] {
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], json)
        XCTAssertNotNil(doc["jobs"] as? [Any], json)
        return ((doc["workers"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }.sorted()
    }

    func testStatusInPlainText() throws {
        let tool = try buildClient()
        let c = try TestCluster(name: "cstatus")
        cluster = c
        try c.startCoordinator()
        try c.startWorker("c-client-peer")
        try waitUntil("worker registered", timeout: 20) { (try? c.workerIDs()) == ["c-client-peer"] }
        let result = try ProcessRun(tool, ["--endpoint", c.endpoint, "--timeout-ms", "5000"])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertEqual(try workers(result.out), ["c-client-peer"], result.out)

        // A coordinator that is not there: a clear message and exit 1, not a hang.
        let silent = try ProcessRun(tool, ["--endpoint", "tcp://127.0.0.1:1", "--timeout-ms", "300"])
        XCTAssertEqual(silent.status, 1)
        XCTAssertTrue(silent.err.contains("no coordinator answered"), silent.err)
        // A bad option is a usage error.
        let usage = try ProcessRun(tool, ["--timeout-ms", "-5"])
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.err.contains("--timeout-ms"), usage.err)
    }

    func testStatusUnderCurveNeedsAnAllowedKey() throws {
        let tool = try buildClient()
        let bin = try ClusterBinaries.require()
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("uniguard-ckeys-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: keys) }
        for (dir, name) in [(keys, "coordinator"), ("\(keys)/workers", "monitor"), ("\(keys)/other", "stranger")] {
            let result = try ProcessRun("\(bin)/coordinator", ["keygen", "--out", dir, "--name", name])
            XCTAssertEqual(result.status, 0, result.err)
        }
        let c = try TestCluster(name: "cstatus-curve", curve: """
            [curve]
            coordinator_secret_key = "\(keys)/coordinator.key_secret"
            allowed_worker_keys = ["\(keys)/workers"]
            """)
        cluster = c
        try c.startCoordinator()
        let serverKey = "\(keys)/coordinator.key"
        let allowed = try ProcessRun(tool, ["--endpoint", c.endpoint, "--curve-server-key", serverKey,
                                            "--curve-secret-key", "\(keys)/workers/monitor.key_secret"])
        XCTAssertEqual(allowed.status, 0, allowed.err)
        XCTAssertEqual(try workers(allowed.out), [], allowed.out)

        // An unlisted key and plain text are both refused by the coordinator: no answer.
        let stranger = try ProcessRun(tool, ["--endpoint", c.endpoint, "--timeout-ms", "1000", "--curve-server-key", serverKey,
                                             "--curve-secret-key", "\(keys)/other/stranger.key_secret"])
        XCTAssertEqual(stranger.status, 1, stranger.out)
        XCTAssertEqual(stranger.out, "")
        let plain = try ProcessRun(tool, ["--endpoint", c.endpoint, "--timeout-ms", "1000"])
        XCTAssertEqual(plain.status, 1, plain.out)
        // Half a key pair is a usage error; a damaged key file is named.
        let half = try ProcessRun(tool, ["--endpoint", c.endpoint, "--curve-server-key", serverKey])
        XCTAssertEqual(half.status, 2)
        try "# nothing here\nshort\n".write(toFile: "\(keys)/bad.key", atomically: true, encoding: .utf8)
        let bad = try ProcessRun(tool, ["--endpoint", c.endpoint, "--curve-server-key", "\(keys)/bad.key",
                                        "--curve-secret-key", "\(keys)/workers/monitor.key_secret"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("bad.key"), bad.err)
    }
}
