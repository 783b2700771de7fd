import Foundation
import TestHelpers
import XCTest

/// Locates the built `coordinator` and `worker` executables: `UNIGUARD_BIN` if set, else the directory of the
/// running test bundle (same build configuration), else `swift build --show-bin-path`.
enum ClusterBinaries {
    static let directory: String? = {
        let fm = FileManager.default
        func usable(_ dir: String) -> Bool {
            fm.isExecutableFile(atPath: dir + "/coordinator") && fm.isExecutableFile(atPath: dir + "/worker")
        }
        if let env = ProcessInfo.processInfo.environment["UNIGUARD_BIN"], usable(env) { return env }
        let me = (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (me as NSString).deletingLastPathComponent
        // The test runner lives in <bin>/UniGuardPackageTests.xctest or directly in <bin>.
        for _ in 0..<3 {
            if usable(dir) { return dir }
            dir = (dir as NSString).deletingLastPathComponent
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "build", "--show-bin-path"]
        process.currentDirectoryURL = packageRoot
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        let path = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return usable(path) ? path : nil
    }()

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func require() throws -> String {
        guard let directory else {
            throw TestSupport.unavailable("coordinator/worker executables not found; build them (swift build --build-tests) or set UNIGUARD_BIN")
        }
        return directory
    }
}

/// A child process with its output in log files (no pipes to fill up).
final class DaemonProcess {
    let name: String
    let process = Process()
    let logPath: String

    init(name: String, executable: String, arguments: [String], logDirectory: String) throws {
        self.name = name
        logPath = "\(logDirectory)/\(name).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// kill -9: no goodbye, no cleanup.
    func kill9() {
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGSTOP: frozen, so it can neither finish nor report what it holds.
    func freeze() { kill(pid, SIGSTOP) }

    /// SIGCONT after `freeze`.
    func thaw() { kill(pid, SIGCONT) }

    func terminate() {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { kill9() }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// A throwaway cluster in a temp directory: config with short heartbeats, validation data, job files, and the
/// processes it started (all killed in `shutdown`).
final class TestCluster {
    let root: String
    let bin: String
    var processes: [DaemonProcess] = []
    /// The coordinator's resolved endpoint (known after `startCoordinator`).
    var endpoint = ""
    var coordinator: DaemonProcess?
    private var coordinatorRuns = 0

    /// Heartbeat timing: short so liveness expiry is quick, long enough for a loaded 2-core machine.
    static let heartbeatMs = 300
    static let liveness = 5

    /// `liveness` is the coordinator's (workers played by a test may pause longer than the default allows).
    init(name: String, curve: String = "", limits: String = "", leaseTimeoutMs: Int = 60000,
         liveness: Int = TestCluster.liveness) throws {
        bin = try ClusterBinaries.require()
        root = FileManager.default.temporaryDirectory.appendingPathComponent("uniguard-\(name)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let config = """
            [coordinator]
            endpoint = "tcp://127.0.0.1:0"
            [heartbeat]
            interval_ms = \(Self.heartbeatMs)
            liveness = \(liveness)
            reconnect_initial_ms = 200
            reconnect_max_ms = 1000
            [leases]
            timeout_ms = \(leaseTimeoutMs)
            [storage]
            database = "var/coordinator.sqlite"
            exports = "var/exports"
            [client]
            timeout_ms = 4000
            \(limits)
            \(curve)
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        // Deterministic text: a failure reproduces with the same data.
        let lines = (0..<120).map { i in
            "{\"policy\":\"safety\",\"prompt\":\"prompt number \(i) \((i * 7919) % 1000)\",\"label\":\"\(i % 3 == 0 ? "unsafe" : "safe")\",\"source\":\"test\"}"
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: "\(root)/val.jsonl", atomically: true, encoding: .utf8)
    }

    var configPath: String { "\(root)/cluster.conf" }

    /// Writes a merge-search job over the tiny fixture models; `minMs` is each evaluation's minimum time.
    func writeJob(iterations: Int, shards: Int = 2, minMs: Int = 250, name: String = "job.yaml") throws -> String {
        let fixtures = ClusterBinaries.packageRoot.appendingPathComponent("Tests/Fixtures/merge").path
        let yaml = """
            kind: merge-search
            name: test
            candidates: [\(fixtures)/m0, \(fixtures)/m1, \(fixtures)/m2]
            methods: [linear]
            subsets: [all, attention]
            strategy: thompson
            iterations: \(iterations)
            seed: 11
            validation: val.jsonl
            validation_shards: \(shards)
            evaluator: weight-sign
            evaluator_options: {min_ms: \(minMs)}
            """
        let path = "\(root)/\(name)"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Starts `coordinator serve`; waits for its endpoint file. `bind` rebinds a known endpoint after a restart.
    @discardableResult
    func startCoordinator(bind: String? = nil, extra: [String] = []) throws -> DaemonProcess {
        let endpointFile = "\(root)/var/coordinator.sqlite.endpoint"
        try? FileManager.default.removeItem(atPath: endpointFile)
        coordinatorRuns += 1
        var arguments = ["serve", "--config", configPath, "--log-level", "debug"] + extra
        if let bind { arguments += ["--bind", bind] }
        let process = try DaemonProcess(name: "coordinator-\(coordinatorRuns)", executable: "\(bin)/coordinator",
                                        arguments: arguments, logDirectory: root)
        processes.append(process)
        coordinator = process
        try waitUntil("coordinator listening", timeout: 20) {
            FileManager.default.fileExists(atPath: endpointFile) || !process.isRunning
        }
        guard process.isRunning else { throw TestFailure("coordinator exited:\n\(process.log)") }
        endpoint = try String(contentsOfFile: endpointFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return process
    }

    @discardableResult
    func startWorker(_ id: String, slots: Int = 1, extra: [String] = []) throws -> DaemonProcess {
        let process = try DaemonProcess(
            name: "worker-\(id)-\(processes.count)", executable: "\(bin)/worker",
            arguments: ["--coordinator", endpoint, "--id", id, "--slots", String(slots), "--cache", "\(root)/cache-\(id)",
                        "--heartbeat-interval-ms", String(Self.heartbeatMs), "--liveness", String(Self.liveness),
                        "--reconnect-initial-ms", "200", "--reconnect-max-ms", "1000", "--log-level", "debug"] + extra,
            logDirectory: root)
        processes.append(process)
        return process
    }

    /// Runs a client subcommand against the coordinator; returns exit status and stdout/stderr.
    func client(_ arguments: [String], endpoint override: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(bin)/coordinator")
        process.arguments = arguments + ["--config", configPath, "--endpoint", override ?? endpoint]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting so a large status document cannot fill the pipe and block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    func submit(_ job: String) throws -> String {
        let result = try client(["submit", job])
        guard result.status == 0 else { throw TestFailure("submit failed: \(result.err)") }
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `status [JOB] --json`, parsed.
    func status(_ job: String? = nil) throws -> [String: Any] {
        let result = try client(["status"] + (job.map { [$0] } ?? []) + ["--json"])
        guard result.status == 0,
              let doc = (try? JSONSerialization.jsonObject(with: Data(result.out.utf8))) as? [String: Any]
        else { throw TestFailure("status failed (\(result.status)): \(result.err) \(result.out.prefix(300))") }
        return doc
    }

    func job(_ id: String) throws -> [String: Any] {
        guard let job = (try status(id)["jobs"] as? [[String: Any]])?.first else { throw TestFailure("no job \(id) in status") }
        return job
    }

    func workerIDs() throws -> [String] {
        ((try status()["workers"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }.sorted()
    }

    /// Leases the coordinator says `worker` holds right now.
    func runningTasks(of worker: String) throws -> Int {
        let workers = (try status()["workers"] as? [[String: Any]]) ?? []
        return workers.first { $0["id"] as? String == worker }?["running"] as? Int ?? 0
    }

    /// A loopback TCP port nothing listens on: bound by us to find it free, then closed.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits for a job to reach a terminal state; returns it.
    func waitForJob(_ id: String, timeout: TimeInterval) throws -> [String: Any] {
        var last: [String: Any] = [:]
        try waitUntil("job \(id) finished", timeout: timeout, every: 0.3) {
            last = (try? self.job(id)) ?? last
            return ["done", "cancelled", "failed"].contains(last["state"] as? String ?? "")
        }
        return last
    }

    func waitForArms(_ id: String, atLeast n: Int, timeout: TimeInterval) throws {
        try waitUntil("\(n) arms of \(id) done", timeout: timeout, every: 0.15) {
            ((try? self.job(id))?["arms_done"] as? Int ?? 0) >= n
        }
    }

    func shutdown() {
        for process in processes { process.terminate() }
        if ProcessInfo.processInfo.environment["UNIGUARD_KEEP_TEST_DIRS"] == nil {
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    /// Logs of every process, for failure messages.
    var logs: String {
        processes.map { "----- \($0.name) -----\n" + String($0.log.suffix(4000)) }.joined(separator: "\n")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(_ what: String, timeout: TimeInterval, every interval: TimeInterval = 0.05,
               _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: interval)
    }
    throw TestFailure("timed out after \(timeout) s waiting for \(what)")
}

/// History checks shared by the fault tests: every issued arm evaluated exactly once, iterations 1...n.
func assertCompleteHistory(_ job: [String: Any], iterations: Int, file: StaticString = #filePath, line: UInt = #line) {
    let history = job["history"] as? [[String: Any]] ?? []
    let done = history.filter { $0["state"] as? String == "done" }
    XCTAssertEqual(job["state"] as? String, "done", "job state", file: file, line: line)
    XCTAssertEqual(job["arms_done"] as? Int, iterations, file: file, line: line)
    XCTAssertEqual(history.count, iterations, "every issued arm is in the history, none lost or extra", file: file, line: line)
    XCTAssertEqual(done.count, iterations, "every issued arm was evaluated", file: file, line: line)
    XCTAssertEqual(Set(done.compactMap { $0["arm"] as? Int }), Set(1...iterations), "each arm exactly once", file: file, line: line)
    XCTAssertEqual(done.compactMap { $0["iteration"] as? Int }.sorted(), Array(1...iterations), "one result per iteration",
                   file: file, line: line)
    XCTAssertTrue(done.allSatisfy { ($0["f1"] as? Double).map { (0...1).contains($0) } ?? false }, file: file, line: line)
    XCTAssertNotNil(job["best_f1"] as? Double, file: file, line: line)
}
