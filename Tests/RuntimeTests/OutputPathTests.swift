import Foundation
@testable import Runtime
import TestHelpers
import XCTest

/// Outputs are checked before any work: never an input (whatever the spelling or symlink), never a file or a
/// directory of other things where a model directory goes, always somewhere writable.
final class OutputPathTests: XCTestCase {
    func testAnOutputEqualToAnInputIsRefusedWhateverItsSpelling() throws {
        let dir = TestSupport.tempDir(), input = dir.appendingPathComponent("data.jsonl").path
        FileManager.default.createFile(atPath: input, contents: Data())
        let link = dir.appendingPathComponent("link.jsonl").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: input)
        for spelling in [input, dir.path + "/./data.jsonl", dir.path + "/sub/../data.jsonl", link] {
            XCTAssertThrowsError(try OutputPath.refuseInputs(spelling, [("--data", input)]), spelling) {
                XCTAssertTrue("\($0)".contains("is also the input --data"), "\($0)")
            }
        }
        XCTAssertNoThrow(try OutputPath.refuseInputs(dir.appendingPathComponent("out.jsonl").path, [("--data", input)]))
    }

    func testAModelDirectoryOutputMustBeNewEmptyOrAModel() throws {
        let dir = TestSupport.tempDir(), fm = FileManager.default
        XCTAssertNoThrow(try OutputPath.requireModelDirectory(dir.appendingPathComponent("new/deeper").path))
        let file = dir.appendingPathComponent("file").path
        fm.createFile(atPath: file, contents: Data())
        XCTAssertThrowsError(try OutputPath.requireModelDirectory(file)) { XCTAssertTrue("\($0)".contains("is a file"), "\($0)") }
        XCTAssertThrowsError(try OutputPath.requireModelDirectory(file + "/model")) { XCTAssertTrue("\($0)".contains("is a file, not a directory"), "\($0)") }
        let other = dir.appendingPathComponent("home")
        try fm.createDirectory(at: other, withIntermediateDirectories: true)
        fm.createFile(atPath: other.appendingPathComponent("notes.txt").path, contents: Data())
        XCTAssertThrowsError(try OutputPath.requireModelDirectory(other.path)) { XCTAssertTrue("\($0)".contains("not a model directory"), "\($0)") }
        fm.createFile(atPath: other.appendingPathComponent("config.json").path, contents: Data())
        XCTAssertNoThrow(try OutputPath.requireModelDirectory(other.path))
    }
}
