@testable import Cluster
import Foundation
@testable import Runtime
import XCTest

/// cluster.conf: the TOML subset parser and the schema (unknown keys and bad values name file:line and key).
final class ClusterConfigTests: XCTestCase {
    func testExampleConfigAtRepositoryRootParses() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let config = try ClusterConfig.load(path: root.appendingPathComponent("cluster.conf").path)
        XCTAssertEqual(config.endpoint, "tcp://*:5555")
        XCTAssertEqual(config.clientEndpoint, "tcp://127.0.0.1:5555")
        XCTAssertEqual(config.heartbeatIntervalMs, 1000)
        XCTAssertEqual(config.liveness, 3)
        XCTAssertFalse(config.curveEnabled)
        XCTAssertTrue(config.databasePath.hasPrefix("/"), "relative paths resolve against the config's directory")
    }

    func testAllValueTypesAndPathResolution() throws {
        let text = """
            # comment
            [coordinator]
            endpoint = 'tcp://0.0.0.0:7000'   # literal string
            [heartbeat]
            interval_ms = 1_500
            liveness = 4
            [storage]
            database = "db/state.sqlite"
            advertise_shared_paths = true
            [curve]
            coordinator_secret_key = "/keys/c.key_secret"
            allowed_worker_keys = [
                "keys/w1.key",  # first
                "/abs/w2.key",
            ]
            """
        let config = try ClusterConfig.parse(text, file: "/etc/uniguard/cluster.conf")
        XCTAssertEqual(config.clientEndpoint, "tcp://127.0.0.1:7000")
        XCTAssertEqual(config.heartbeatIntervalMs, 1500)
        XCTAssertEqual(config.liveness, 4)
        XCTAssertEqual(config.databasePath, "/etc/uniguard/db/state.sqlite")
        XCTAssertTrue(config.advertiseSharedPaths)
        XCTAssertEqual(config.allowedWorkerKeys, ["/etc/uniguard/keys/w1.key", "/abs/w2.key"])
        XCTAssertTrue(config.curveEnabled)
        XCTAssertEqual(config.heartbeatSettings.expiry, .milliseconds(6000))
    }

    func testStringEscapesAndFloats() throws {
        let doc = try TOMLParser.parse("[t]\na = \"x\\ty\\u00e9\\\"\"\nb = -2.5e3\nc = false\n", file: "f")
        let table = try XCTUnwrap(doc.table("t"))
        XCTAssertEqual(table.entries["a"]?.value, .string("x\tyé\""))
        XCTAssertEqual(table.entries["b"]?.value, .float(-2500))
        XCTAssertEqual(table.entries["c"]?.value, .boolean(false))
    }

    func testUnknownKeyNamesFileLineAndKey() {
        assertError("[heartbeat]\ninterval_ms = 100\nintervall = 3\n", line: 3, key: "heartbeat.intervall", contains: "unknown key")
    }

    func testUnknownTable() {
        assertError("[heartbeats]\ninterval_ms = 1\n", line: 1, key: nil, contains: "unknown table")
    }

    func testWrongTypeAndRange() {
        assertError("[heartbeat]\ninterval_ms = \"fast\"\n", line: 2, key: "heartbeat.interval_ms", contains: "expected an integer")
        assertError("[heartbeat]\nliveness = 0\n", line: 2, key: "heartbeat.liveness", contains: "out of range")
        assertError("[coordinator]\nendpoint = \"localhost:5555\"\n", line: 2, key: "coordinator.endpoint", contains: "not an endpoint")
        assertError("[storage]\nadvertise_shared_paths = yes\n", line: 2, key: "storage.advertise_shared_paths", contains: "strings need quotes")
    }

    func testSyntaxErrors() {
        assertError("[limits]\nsend_queue = 1 2\n", line: 2, key: "limits.send_queue", contains: "unexpected text")
        assertError("[client]\ntimeout_ms = 01\n", line: 2, key: "client.timeout_ms", contains: "leading zeros")
        assertError("[client]\ntimeout_ms = 1\ntimeout_ms = 2\n", line: 3, key: "client.timeout_ms", contains: "twice")
        assertError("[client]\nx = \"open\n", line: 2, key: "client.x", contains: "unterminated")
        assertError("[[jobs]]\n", line: 1, key: nil, contains: "not supported")
        assertError("[curve]\nallowed_worker_keys = [1, 2]\n", line: 2, key: "curve.allowed_worker_keys", contains: "only hold strings")
        assertError("interval_ms = 5\n", line: 1, key: "interval_ms", contains: "under a table")
    }

    func testCurveKeysNeedASecretKey() {
        assertError("[curve]\nallowed_worker_keys = [\"k\"]\n", line: 2, key: "curve.allowed_worker_keys", contains: "coordinator_secret_key")
    }

    func testGarbageNeverTraps() {
        var rng = SeededGenerator(seed: 42)
        let alphabet = Array("[]=\"'#\n \t.,_-+0123456789abcxyz\\u{}eE".utf8)
        for _ in 0..<2000 {
            let bytes = (0..<Int(rng.next() % 60)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            _ = try? ClusterConfig.parse(String(decoding: bytes, as: UTF8.self), file: "fuzz")
        }
    }

    private func assertError(_ text: String, line: Int, key: String?, contains fragment: String,
                             file: StaticString = #filePath, sourceLine: UInt = #line) {
        do {
            _ = try ClusterConfig.parse(text, file: "test.conf")
            XCTFail("expected an error", file: file, line: sourceLine)
        } catch let error as TOMLError {
            XCTAssertEqual(error.file, "test.conf", file: file, line: sourceLine)
            XCTAssertEqual(error.line, line, "\(error)", file: file, line: sourceLine)
            XCTAssertEqual(error.key, key, "\(error)", file: file, line: sourceLine)
            XCTAssertTrue(error.description.contains(fragment), "\(error)", file: file, line: sourceLine)
            XCTAssertTrue(error.description.hasPrefix("test.conf:\(line):"), "\(error)", file: file, line: sourceLine)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: sourceLine)
        }
    }
}
