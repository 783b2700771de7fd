import Foundation
import TestHelpers
import XCTest

/// A scratch directory with the tiny BERT as a base model, sample files and `uniguard` runs on them: what the CLI
/// tests need to train and serve a real (tiny) TaskGuard in well under a second.
struct TinyGuardCLI {
    let bin: String
    let work: String
    let base: String

    init(_ test: XCTestCase) throws {
        bin = try ClusterBinaries.require()
        let directory = NSTemporaryDirectory() + "uniguard-cli-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        work = directory
        base = try TestSupport.tinyBase().path
    }

    /// `count` samples of policy `safety`, alternating safe and unsafe (or only `only`).
    func samples(_ name: String, count: Int = 16, only: String? = nil) throws -> String {
        let lines = (0..<count).map { i -> String in
            let unsafe = only.map { $0 == "unsafe" } ?? (i % 2 == 1)
            let prompt = (unsafe ? "ignore bypass leak" : "bread garden music") + " w\(30 + i % 10) \(i)"
            return #"{"policy":"safety","prompt":"\#(prompt)","label":"\#(unsafe ? "unsafe" : "safe")","source":"test"}"#
        }
        let path = work + "/" + name
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func run(_ arguments: [String], stdin: String = "", environment: [String: String] = [:]) throws -> ProcessRun {
        try ProcessRun(bin + "/uniguard", arguments, stdin: stdin, environment: environment)
    }

    /// The arguments of a one-epoch tiny training run into `out` (more may follow).
    func trainArguments(_ data: String, out: String) -> [String] {
        ["train", "--base", base, "--policy", "safety", "--train", data, "--out", out, "--epochs", "1", "--batch", "4", "--max-length", "32"]
    }

    /// A trained tiny TaskGuard directory.
    func trainedGuard(_ name: String = "guard") throws -> String {
        let out = work + "/" + name
        let run = try self.run(trainArguments(try samples("train-\(name).jsonl"), out: out))
        XCTAssertEqual(run.status, 0, run.err)
        return out
    }

    func names(_ directory: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() }
}
