import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Fusion
@testable import Fusion

/// The convergence plot: one polyline per strategy, axes, legend, escaped labels, well-formed SVG.
final class SearchPlotTests: XCTestCase {
    func testPlotHasALinePerSeriesAxesAndLegend() throws {
        var histories: [(name: String, records: [SearchRecord])] = []
        for kind in [SearchStrategyKind.thompson, .random] {
            var s = try MergeSearch(space: SyntheticReward.space(), strategy: kind, seed: 1)
            _ = try SyntheticReward.standard.run(&s, iterations: 30)
            histories.append((kind.rawValue, s.history))
        }
        histories.append(("a <b> & \"c\"", [])) // empty series: legend only
        let svg = ConvergencePlot(histories: histories).svg()
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.hasSuffix("</svg>\n"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
        for label in ["thompson", "random", "iteration", "best F1 so far", "a &lt;b&gt; &amp; &quot;c&quot;"] {
            XCTAssertTrue(svg.contains(label), label)
        }
        XCTAssertFalse(svg.contains("nan"))
        // Well-formed XML.
        let parser = XMLParser(data: Data(svg.utf8))
        XCTAssertTrue(parser.parse(), "\(String(describing: parser.parserError))")
    }

    func testNiceTicksCoverTheRangeEvenly() {
        for (lo, hi) in [(0.61, 0.87), (0.0, 1.0), (1.0, 150.0), (0.8123, 0.8125)] {
            let t = ConvergencePlot.niceTicks(lo, hi, count: 5)
            XCTAssertLessThanOrEqual(t.first!, lo)
            XCTAssertGreaterThanOrEqual(t.last!, hi - 1e-12)
            XCTAssertTrue((3...12).contains(t.count), "\(t)")
            let step = t[1] - t[0]
            for i in 1..<t.count { XCTAssertEqual(t[i] - t[i - 1], step, accuracy: step * 1e-9) }
        }
    }

    func testWritesAFile() throws {
        let dir = MergeFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("plot.svg").path
        try ConvergencePlot(series: [.init(name: "one point", values: [0.5])]).write(to: path)
        XCTAssertTrue(try String(contentsOfFile: path, encoding: .utf8).contains("<circle"))
    }
}
