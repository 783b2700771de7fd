import Foundation
import XCTest

/// Item 7: bad jobs are refused at submission with the reason, peer text cannot forge log lines, a worker refused
/// by CURVE says so, and `coordinator listening` means the coordinator really listens.
final class ClusterSubmitChecksTests: XCTestCase {
    private var clusters: [TestCluster] = []

    override func tearDown() {
        for c in clusters { c.shutdown() }
        clusters = []
    }

    private func makeCluster(_ name: String, curve: String = "") throws -> TestCluster {
        let c = try TestCluster(name: name, curve: curve)
        clusters.append(c)
        return c
    }

    func testSubmitRefusesANonModelCandidateAndAbsurdIterations() throws {
        let c = try makeCluster("submit-checks")
        try c.startCoordinator()
        let fixtures = ClusterBinaries.packageRoot.appendingPathComponent("Tests/Fixtures/merge").path
        // A directory that looks like a model but whose weights are not safetensors.
        let bad = "\(c.root)/not-a-model"
        try FileManager.default.copyItem(atPath: "\(fixtures)/m1", toPath: bad)
        try Data("this is not a safetensors file".utf8).write(to: URL(fileURLWithPath: "\(bad)/model.safetensors"))
        let job = try String(contentsOfFile: try c.writeJob(iterations: 2), encoding: .utf8)
        try job.replacingOccurrences(of: "\(fixtures)/m1", with: bad).write(toFile: "\(c.root)/bad-model.yaml", atomically: true, encoding: .utf8)
        let refused = try c.client(["submit", "\(c.root)/bad-model.yaml"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.err.contains(bad) && refused.err.contains("not a usable model directory"), refused.err)

        for iterations in ["1e12", "1000001"] {
            try job.replacingOccurrences(of: "iterations: 2", with: "iterations: \(iterations)")
                .write(toFile: "\(c.root)/many.yaml", atomically: true, encoding: .utf8)
            let result = try c.client(["submit", "\(c.root)/many.yaml"])
            XCTAssertNotEqual(result.status, 0, "iterations: \(iterations) is refused")
            XCTAssertTrue(result.err.contains("iterations"), result.err)
        }
        XCTAssertEqual((try c.status()["jobs"] as? [[String: Any]])?.count, 0, "no job was created")
    }

    func testRejectedJobTextCannotForgeLogLines() throws {
        let c = try makeCluster("forged-log")
        try c.startCoordinator()
        // A key with newlines: the parser quotes it in its error, which the coordinator logs.
        let yaml = "kind: merge-search\n\"x\\nFORGED critical: coordinator compromised\\n\": 1\n"
        try yaml.write(toFile: "\(c.root)/forged.yaml", atomically: true, encoding: .utf8)
        let result = try c.client(["submit", "\(c.root)/forged.yaml"])
        XCTAssertNotEqual(result.status, 0)
        try waitUntil("rejection logged", timeout: 10) { c.coordinator!.log.contains("rejected job from") }
        let lines = c.coordinator!.log.split(separator: "\n")
        XCTAssertFalse(lines.contains { $0.hasPrefix("FORGED") }, "peer text starts no log line:\n\(c.coordinator!.log)")
        XCTAssertTrue(c.coordinator!.log.contains("\\nFORGED"), "the newline is shown escaped")
    }

    func testWorkerRefusedByCurveSaysWhy() throws {
        let keys = try TestCurveKeys()
        try keys.make("listed")
        try keys.make("intruder", listed: false)
        let c = try makeCluster("curve-refused", curve: keys.config)
        try c.startCoordinator()
        let worker = try c.startWorker("intruder", extra: ["--curve-server-key", keys.serverKeyPath,
                                                           "--curve-secret-key", keys.secretKeyPath("intruder", listed: false)])
        try waitUntil("the worker logs the refusal", timeout: 20) {
            worker.log.contains("the coordinator refused the CURVE handshake: this worker's key is not authorised")
        }
        let plain = try c.startWorker("plaintext")
        try waitUntil("the plain-text worker logs the failed handshake", timeout: 20) {
            plain.log.contains("the security handshake failed")
        }
        XCTAssertEqual(try c.workerIDs(), [])
    }

    func testListeningIsPrintedOnlyAfterASuccessfulStart() throws {
        let first = try makeCluster("listen-1")
        try first.startCoordinator()
        let second = try makeCluster("listen-2")
        // The port is taken: the second coordinator cannot start and must not claim to listen.
        XCTAssertThrowsError(try second.startCoordinator(bind: first.endpoint))
        let log = second.coordinator?.log ?? ""
        XCTAssertTrue(log.contains("cannot start"), log)
        XCTAssertFalse(log.contains("coordinator listening"), log)
    }
}
