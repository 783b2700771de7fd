import Foundation
import GuardData
import LLMStandIn
import Synthesis
import TestHelpers
import XCTest

/// The real `uniguard synthesize` process against the stand-in: killed with SIGKILL mid-run and started
/// again, it ends with every sample exactly once and everything committed before the kill kept.
final class SynthesizeCommandTests: XCTestCase {
    /// The directory holding the built `uniguard`: UNIGUARD_BIN, else beside the test bundle.
    static func binary() throws -> String {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["UNIGUARD_BIN"], fm.isExecutableFile(atPath: env + "/uniguard") { return env + "/uniguard" }
        let me = (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (me as NSString).deletingLastPathComponent
        for _ in 0..<3 {
            if fm.isExecutableFile(atPath: dir + "/uniguard") { return dir + "/uniguard" }
            dir = (dir as NSString).deletingLastPathComponent
        }
        throw TestSupport.unavailable("uniguard executable not found; build it (swift build --build-tests) or set UNIGUARD_BIN")
    }

    func start(_ binary: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = SynthesisTestSupport.packageRoot
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.seekToEnd()
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        return process
    }

    func state(_ out: String) -> SynthesisState? {
        guard let data = FileManager.default.contents(atPath: SynthesisLedger.statePath(for: out)) else { return nil }
        return try? JSONDecoder().decode(SynthesisState.self, from: data)
    }

    func testAKilledRunResumesWithNoDuplicatesAndNoGaps() async throws {
        let binary = try Self.binary()
        var behaviour = StandInBehaviour()
        behaviour.every = [(4, .slow(seconds: 0.3)), (9, .ignoresSchema), (10, .rateLimited(retryAfter: "0"))]
        let standIn = try await LLMStandIn.start(behaviour)
        let dir = TestSupport.tempDir()
        let out = dir.appendingPathComponent("synth.jsonl").path
        let log = dir.appendingPathComponent("log.txt").path
        let arguments = ["synthesize", "--policy", "tax_advice", "--policy", "pii", "--endpoint", standIn.endpoint, "--model", "stand-in",
                         "--count", "24", "--batch", "3", "--concurrency", "2", "--seed", "5", "--out", out,
                         "--no-embedding-dedup", "--retry-base-delay", "0.01", "--threads", "1"]
        var snapshots: [Data] = []
        for kill in 0..<2 {
            let process = try start(binary, arguments, log: log)
            // Kill after a few more batches than the last snapshot, mid-run.
            let goal = (kill + 1) * 6
            let deadline = Date().addingTimeInterval(60)
            while (state(out)?.counts.batches ?? 0) < goal && process.isRunning && Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
            XCTAssertTrue(process.isRunning, "the run must still be going when killed:\n" + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? ""))
            sendKill(process.processIdentifier)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .uncaughtSignal)
            let committed = state(out)!
            let bytes = try Data(contentsOf: URL(fileURLWithPath: out))
            XCTAssertGreaterThanOrEqual(UInt64(bytes.count), committed.outputBytes)
            snapshots.append(bytes.prefix(Int(committed.outputBytes)))
        }
        let finish = try start(binary, arguments, log: log)
        finish.waitUntilExit()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        await standIn.stop()
        XCTAssertEqual(finish.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("synthesize: resuming"), text)
        let final = try Data(contentsOf: URL(fileURLWithPath: out))
        for snapshot in snapshots { XCTAssertEqual(final.prefix(snapshot.count), snapshot, "samples committed before a kill are kept as they were") }
        let samples = try SynthesisTestSupport.samples(out)
        XCTAssertEqual(SynthesisTestSupport.counts(samples), ["tax_advice/safe": 24, "tax_advice/unsafe": 24, "pii/safe": 24, "pii/unsafe": 24])
        SynthesisTestSupport.assertNoDuplicates(samples)
        XCTAssertFalse(samples.contains { $0.prompt.contains("Sure!") }, "the schema-ignoring replies were never written")
        // Every batch of each (policy, label) from 0 up is committed once: a killed batch was asked again, none skipped.
        let final_ = state(out)!
        for (key, group) in final_.groups {
            XCTAssertEqual(group.committed, Array(Set(group.committed)).sorted(), "\(key): a batch committed twice")
        }
        XCTAssertEqual(final_.counts.accepted, 96)
        XCTAssertTrue(text.contains("per 1k accepted samples"), text)
    }

    func testUsageErrorsNameTheOption() throws {
        let binary = try Self.binary()
        let run = { (args: [String]) -> (Int32, String) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["synthesize", "--policy", "pii", "--model", "m", "--count", "2", "--out", "/tmp/x.jsonl"] + args
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            try! process.run()
            let data = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let (status, err) = run(["--endpoint", "localhost:8080"])
        XCTAssertEqual(status, 64, err)
        XCTAssertTrue(err.contains("--endpoint must be an http(s) URL"), err)
        let (status2, err2) = run(["--endpoint", "http://127.0.0.1:9/v1", "--concurrency", "0"])
        XCTAssertEqual(status2, 64, err2)
        XCTAssertTrue(err2.contains("--concurrency"), err2)
        let (status3, err3) = run(["--endpoint", "http://127.0.0.1:9/v1", "--api-key-env", "UNIGUARD_TEST_NO_SUCH_VARIABLE", "--no-embedding-dedup"])
        XCTAssertEqual(status3, 1, err3)
        XCTAssertTrue(err3.contains("UNIGUARD_TEST_NO_SUCH_VARIABLE"), err3)
        // --out equal to a policy file given as input: refused before any request, the policy file untouched.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synth-out-input-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let policyFile = dir.appendingPathComponent("p.yaml").path
        let policyText = "id: p\nname: P\n"
        try policyText.write(toFile: policyFile, atomically: true, encoding: .utf8)
        let (status4, err4) = run(["--endpoint", "http://127.0.0.1:9/v1", "--policy", policyFile, "--out", policyFile, "--no-embedding-dedup"])
        XCTAssertEqual(status4, 1, err4)
        XCTAssertTrue(err4.contains("is also the input --policy"), err4)
        XCTAssertEqual(try String(contentsOfFile: policyFile, encoding: .utf8), policyText)
    }
}

/// SIGKILL, as `kill -9` sends it.
private func sendKill(_ pid: Int32) { _ = kill(pid, SIGKILL) }
