import Foundation
@testable import Fusion
import XCTest

/// A merge's output directory appears whole: an earlier merge there is replaced only by a complete one, nothing is
/// left beside it, and neither an input (by any path) nor a directory of other things is ever overwritten.
final class MergeOutputReplacementTests: XCTestCase {
    var root: URL!

    override func setUp() { root = MergeFixtures.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    func names(_ url: URL) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted() }

    func testAMergeReplacesAnEarlierOneAsAWhole() throws {
        let out = root.appendingPathComponent("out")
        try ModelMerger.merge(try MergeFixtures.config("linear"), to: out.path)
        try "stale".write(to: out.appendingPathComponent("stale.txt"), atomically: true, encoding: .utf8)
        try ModelMerger.merge(try MergeFixtures.config("ties"), to: out.path)
        XCTAssertFalse(names(out).contains("stale.txt"), "\(names(out))")
        XCTAssertTrue(names(out).contains("model.safetensors"))
        XCTAssertEqual(names(root).filter { $0.contains(".tmp-") }, [])
    }

    func testAnInputReachedThroughASymlinkIsRefused() throws {
        let a = root.appendingPathComponent("a"), link = root.appendingPathComponent("link")
        try FileManager.default.copyItem(atPath: MergeFixtures.model("m1"), toPath: a.path)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: a)
        let c = MergeConfig(method: .linear, models: [.init(path: a.path, parameters: ["weight": .number(1)])])
        let before = names(a)
        XCTAssertThrowsError(try ModelMerger.merge(c, to: link.path)) { XCTAssertTrue("\($0)".contains("is also the input model"), "\($0)") }
        XCTAssertEqual(names(a), before)
    }

    func testADirectoryOfOtherThingsIsRefused() throws {
        let home = root.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try "mine".write(to: home.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ModelMerger.merge(try MergeFixtures.config("linear"), to: home.path)) {
            XCTAssertTrue("\($0)".contains("not a model directory"), "\($0)")
        }
        XCTAssertEqual(names(home), ["notes.txt"])
    }
}
