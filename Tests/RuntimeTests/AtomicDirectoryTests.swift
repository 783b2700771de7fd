import Foundation
@testable import Runtime
import TestHelpers
import XCTest

/// Model directories are written as a whole: the old one survives any failure, nothing is left beside it, and
/// temporaries of a process that died are removed by the next write.
final class AtomicDirectoryTests: XCTestCase {
    struct Boom: Error {}

    func names(_ dir: URL) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() }

    func testAFailedWriteLeavesTheOldDirectoryAndNoTemporaries() throws {
        let parent = TestSupport.tempDir(), target = parent.appendingPathComponent("model")
        try AtomicDirectory.write(target) { try Data("old".utf8).write(to: $0.appendingPathComponent("weights")) }
        XCTAssertThrowsError(try AtomicDirectory.write(target) { tmp in
            try Data("half".utf8).write(to: tmp.appendingPathComponent("weights"))
            throw Boom()
        })
        XCTAssertEqual(try String(contentsOf: target.appendingPathComponent("weights"), encoding: .utf8), "old")
        XCTAssertEqual(names(parent), ["model"], "no temporary directory is left beside the target")
    }

    func testASuccessfulWriteReplacesTheWholeDirectory() throws {
        let parent = TestSupport.tempDir(), target = parent.appendingPathComponent("model")
        try AtomicDirectory.write(target) { try Data("old".utf8).write(to: $0.appendingPathComponent("stale")) }
        try AtomicDirectory.write(target) { try Data("new".utf8).write(to: $0.appendingPathComponent("weights")) }
        XCTAssertEqual(names(target), ["weights"], "files of the old directory do not linger beside the new ones")
        XCTAssertEqual(names(parent), ["model"])
    }

    func testCarriedOverEntriesSurviveTheReplacement() throws {
        let parent = TestSupport.tempDir(), target = parent.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: target.appendingPathComponent("checkpoints/step-1"), withIntermediateDirectories: true)
        try AtomicDirectory.write(target, carryingOver: ["checkpoints"]) { try Data().write(to: $0.appendingPathComponent("model")) }
        XCTAssertEqual(names(target), ["checkpoints", "model"])
        XCTAssertEqual(names(target.appendingPathComponent("checkpoints")), ["step-1"])
    }

    func testTemporariesOfDeadProcessesAreSweptByTheNextWrite() throws {
        let parent = TestSupport.tempDir(), target = parent.appendingPathComponent("model")
        var dead: Int32 = 999_999
        while TemporaryPaths.isRunning(dead) { dead -= 1 }
        let fm = FileManager.default
        try fm.createDirectory(atPath: target.path + ".tmp-\(dead)", withIntermediateDirectories: true)
        fm.createFile(atPath: target.path + ".tmp-\(dead)-old", contents: Data())
        fm.createFile(atPath: target.path + ".tmp-1", contents: Data())  // pid 1 runs: not ours to remove
        try AtomicDirectory.write(target) { try Data().write(to: $0.appendingPathComponent("weights")) }
        XCTAssertEqual(names(parent), ["model", "model.tmp-1"])
    }

    func testInterruptCleanupRemovesRegisteredTemporaries() throws {
        let dir = TestSupport.tempDir(), path = dir.appendingPathComponent("x.tmp-1").path
        FileManager.default.createFile(atPath: path, contents: Data())
        TemporaryPaths.register(path)
        TemporaryPaths.removeAll()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
