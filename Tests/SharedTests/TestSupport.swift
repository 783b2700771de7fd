import Foundation
import XCTest
@testable import Shared

/// Locates test fixtures and the cached base model.
enum TestSupport {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func fixture(_ path: String) -> URL { fixtures.appendingPathComponent(path) }

    /// The base model directory; skips the test when it is not cached, unless `make test` demands it.
    static func baseModel() throws -> URL {
        if let u = try? UniGuardHome.requireBaseModel() { return u }
        if ProcessInfo.processInfo.environment["UNIGUARD_REQUIRE_MODEL"] == "1" {
            XCTFail("base model missing: run scripts/fetch-base-model.sh")
        }
        throw XCTSkip("base model not cached (scripts/fetch-base-model.sh)")
    }

    static func tempDir() -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("uniguard-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}
