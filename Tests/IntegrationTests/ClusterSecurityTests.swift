import Foundation
import XCTest

/// CURVE with real processes: an unlisted worker key is refused, a listed one registers and works.
final class ClusterSecurityTests: XCTestCase {
    private var cluster: TestCluster?

    override func tearDown() {
        cluster?.shutdown()
        cluster = nil
    }

    func testUnlistedWorkerIsRefusedAndListedWorkerWorks() throws {
        let bin = try ClusterBinaries.require()
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("uniguard-keys-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: keys) }
        for (dir, name) in [(keys, "coordinator"), ("\(keys)/workers", "listed"), ("\(keys)/other", "intruder")] {
            let result = try ProcessRun("\(bin)/coordinator", ["keygen", "--out", dir, "--name", name])
            XCTAssertEqual(result.status, 0, result.err)
            XCTAssertTrue(result.out.contains("\(name).key"), result.out)
        }
        let curve = """
            [curve]
            coordinator_secret_key = "\(keys)/coordinator.key_secret"
            allowed_worker_keys = ["\(keys)/workers"]
            """
        let c = try TestCluster(name: "curve", curve: curve)
        cluster = c
        try c.startCoordinator()
        let serverKey = "\(keys)/coordinator.key"
        let intruder = try c.startWorker("intruder", extra: ["--curve-server-key", serverKey, "--curve-secret-key", "\(keys)/other/intruder.key_secret"])
        // A worker speaking plain text (no CURVE) is refused as well.
        let plaintext = try c.startWorker("plaintext")
        do {
            // Wait for both refusals to have happened (not for a fixed time), then check nobody joined.
            try waitUntil("both handshakes refused", timeout: 20) {
                intruder.log.contains("refused the CURVE handshake") && plaintext.log.contains("the security handshake failed")
            }
            XCTAssertEqual(try c.workerIDs(), [], "neither the unlisted key nor a plain-text worker may join")
            XCTAssertTrue(c.coordinator!.log.contains("is not in the allowed list"), "ZAP logged the refusal")

            try c.startWorker("listed", extra: ["--curve-server-key", serverKey, "--curve-secret-key", "\(keys)/workers/listed.key_secret"])
            try waitUntil("listed worker registers", timeout: 15) { try c.workerIDs() == ["listed"] }
            let job = try c.submit(try c.writeJob(iterations: 4, shards: 1, minMs: 20))
            let finished = try c.waitForJob(job, timeout: 60)
            assertCompleteHistory(finished, iterations: 4)
            XCTAssertEqual(try c.workerIDs(), ["listed"], "the intruder never got in")
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }
}
