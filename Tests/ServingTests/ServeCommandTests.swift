import Foundation
import TestHelpers
import XCTest

/// `uniguard serve` as a process: it prints where it listens, and SIGTERM drains the requests in flight before a
/// clean exit (the CLI's own exit-on-signal handler must not cut them off).
final class ServeCommandTests: XCTestCase {
    func testSIGTERMAnswersRequestsInFlightThenExitsCleanly() async throws {
        let bin = ProcessInfo.processInfo.environment["UNIGUARD_BIN"]
            ?? TestSupport.fixtures.deletingLastPathComponent().appendingPathComponent(".build/debug").path
        let uniguard = "\(bin)/uniguard"
        guard FileManager.default.isExecutableFile(atPath: uniguard) else { throw TestSupport.unavailable("\(uniguard) not built (set UNIGUARD_BIN)") }
        let root = TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        let model = try ServingFixture.promptGuard("alpha", seed: 1, in: root)
        let log = root.appendingPathComponent("serve.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: uniguard)
        process.arguments = ["serve", "--model", model.path, "--port", "0", "--threads", "1", "--max-wait-ms", "1500", "--batch-wait", "always", "--max-batch", "100"]
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        var port: Int?
        let deadline = Date().addingTimeInterval(60)
        while port == nil && Date() < deadline && process.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let r = text.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(text[r].split(separator: ":").last!)
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let url = URL(string: "http://127.0.0.1:\(try XCTUnwrap(port, (try? String(contentsOf: log, encoding: .utf8)) ?? ""))/v1/moderations")!
        let requests = Task { try await ServingFixture.postConcurrently(url, (0..<4).map { ["input": "bread garden \($0)"] }) }
        try await Task.sleep(for: .milliseconds(500))
        kill(process.processIdentifier, SIGTERM)
        let statuses = try await requests.value
        XCTAssertEqual(statuses, [200, 200, 200, 200], "requests in flight at SIGTERM are answered")
        let exitDeadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < exitDeadline { try await Task.sleep(for: .milliseconds(50)) }
        XCTAssertFalse(process.isRunning, "still running 30 s after SIGTERM")
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertTrue(try String(contentsOf: log, encoding: .utf8).contains("stopped after draining"))
    }
}
