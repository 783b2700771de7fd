import Foundation
@testable import Fusion
import XCTest

/// Every mergekit 0.1.5 fixture reproduced within 1e-6.
final class MergeFixtureTests: XCTestCase {
    static let methods = ["linear", "task_arithmetic", "ties", "ties_unequal", "slerp", "breadcrumbs_ties"]

    func check(_ method: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let config = try MergeFixtures.config(method)
        let sink = InMemoryTensorSink()
        try ModelMerger.merge(config, into: sink)
        let expected = try MergeFixtures.expected(method)
        XCTAssertEqual(Set(sink.names), Set(expected.names), "\(method): tensor names", file: file, line: line)
        var worst: (Float, String) = (0, "")
        for name in expected.names {
            guard let ours = sink.tensors[name] else { XCTFail("\(method): missing \(name)", file: file, line: line); continue }
            let d = MergeFixtures.maxDiff(ours, try expected.tensor(name))
            if d > worst.0 { worst = (d, name) }
        }
        print("merge fixture \(method): max |ours - mergekit| = \(worst.0) (\(worst.1))")
        XCTAssertLessThanOrEqual(worst.0, 1e-6, "\(method): worst tensor \(worst.1)", file: file, line: line)
    }

    func testLinear() throws { try check("linear") }
    func testTaskArithmetic() throws { try check("task_arithmetic") }
    func testTies() throws { try check("ties") }
    func testTiesUnequalDensitiesNotNormalised() throws { try check("ties_unequal") }
    func testSlerp() throws { try check("slerp") }
    func testBreadcrumbsTies() throws { try check("breadcrumbs_ties") }

    /// Guards against a fixture being added without a test.
    func testEveryFixtureIsCovered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: MergeFixtures.dir.path)
        let names = Set(files.filter { $0.hasPrefix("expected_") && $0.hasSuffix(".yml") }
            .map { String($0.dropFirst("expected_".count).dropLast(".yml".count)) })
        XCTAssertEqual(names, Set(Self.methods))
    }
}
