import Foundation
import XCTest

/// One finished process: exit status, stdout and stderr.
struct ProcessRun {
    let arguments: [String]
    let status: Int32
    let out: String
    let err: String

    init(_ executable: String, _ arguments: [String], stdin: String = "", environment: [String: String] = [:], directory: String? = nil) throws {
        try self.init(executable, arguments, input: Data(stdin.utf8), environment: environment, directory: directory)
    }

    /// `environment` is added to this process's own; `directory` is the working directory.
    init(_ executable: String, _ arguments: [String], input stdin: Data, environment: [String: String] = [:], directory: String? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let input = Pipe(), out = Pipe(), err = Pipe()
        process.standardInput = input
        process.standardOutput = out
        process.standardError = err
        try process.run()
        input.fileHandleForWriting.write(stdin)
        try input.fileHandleForWriting.close()
        // Read before waiting so a long message cannot fill a pipe and block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        self.arguments = [(executable as NSString).lastPathComponent] + arguments
        status = process.terminationStatus
        self.out = String(decoding: outData, as: UTF8.self)
        self.err = String(decoding: errData, as: UTF8.self)
    }

    /// EX_USAGE, the message naming the offending option or value, and the usage line (when `usage` is given).
    /// `uniguard` starts every error with `uniguard:`; the daemons keep ArgumentParser's `Error:`.
    func assertUsageError(naming what: String, usage: String, file: StaticString = #filePath, line: UInt = #line) {
        let context = "\(arguments.joined(separator: " ")):\n\(err)"
        XCTAssertEqual(status, 64, context, file: file, line: line)
        let prefix = arguments.first == "uniguard" ? "uniguard: " : "Error: "
        XCTAssertTrue(err.hasPrefix(prefix) && err.contains(what), context, file: file, line: line)
        if !usage.isEmpty { XCTAssertTrue(err.contains(usage), context, file: file, line: line) }
    }

    /// Exit 1 with the message, and no usage: the command line was fine.
    func assertRuntimeFailure(line expected: String, file: StaticString = #filePath, line: UInt = #line) {
        let context = "\(arguments.joined(separator: " ")):\n\(err)"
        XCTAssertEqual(status, 1, context, file: file, line: line)
        XCTAssertTrue(err.hasPrefix(expected), context, file: file, line: line)
        XCTAssertFalse(err.contains("Usage:"), context, file: file, line: line)
    }
}

extension XCTestCase {
    /// Runs `BIN/uniguard ARGS` with `stdin` and asserts its exit status (stderr in the failure message).
    @discardableResult
    func runUniGuard(_ bin: String, _ args: [String], stdin: String = "", expect: Int32 = 0,
                     file: StaticString = #filePath, line: UInt = #line) throws -> (out: String, err: String) {
        let run = try ProcessRun(bin + "/uniguard", args, stdin: stdin)
        XCTAssertEqual(run.status, expect, "uniguard \(args.joined(separator: " ")):\n\(run.err)", file: file, line: line)
        return (run.out, run.err)
    }
}
