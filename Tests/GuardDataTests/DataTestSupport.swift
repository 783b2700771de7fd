import Foundation
import GuardData
import TestHelpers
import XCTest

/// A temporary directory removed when the test ends.
final class DataTempDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "uniguard-data-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: target, atomically: true, encoding: .utf8)
        return target
    }

    func read(_ name: String) throws -> String { try String(contentsOfFile: file(name), encoding: .utf8) }
}

/// Zips `dir.path/tree` into a wheel named `name` (the importers read wheels), or skips the test when `zip` or
/// `unzip` is not installed.
func wheel(_ dir: DataTempDirectory, name: String) throws -> String {
    guard let zip = ExternalTool.locate("zip") else { throw TestSupport.unavailable("zip is not installed (apt install zip)") }
    guard ExternalTool.locate("unzip") != nil else { throw TestSupport.unavailable("unzip is not installed (apt install unzip)") }
    let path = dir.file(name)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: zip)
    process.arguments = ["-q", "-r", path, "."]
    process.currentDirectoryURL = URL(fileURLWithPath: dir.file("tree"))
    try process.run()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0)
    return path
}
