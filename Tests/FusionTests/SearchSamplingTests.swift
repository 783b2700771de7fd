@testable import Fusion
@testable import Runtime
import XCTest

/// Gamma (Marsaglia–Tsang), Beta and Dirichlet draws have the right moments and replay from a seed.
final class SearchSamplingTests: XCTestCase {
    func moments(_ n: Int, _ draw: () -> Double) -> (mean: Double, variance: Double) {
        let xs = (0..<n).map { _ in draw() }
        let m = xs.reduce(0, +) / Double(n)
        return (m, xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(n - 1))
    }

    func testGammaMoments() {
        var rng = SeededGenerator(seed: 1)
        for shape in [0.3, 1, 2.5, 10] {
            let (m, v) = moments(40_000) { GammaSampler.gamma(shape: shape, &rng) }
            XCTAssertEqual(m, shape, accuracy: 0.04 * max(shape, 1), "mean of Gamma(\(shape))")
            XCTAssertEqual(v, shape, accuracy: 0.08 * max(shape, 1), "variance of Gamma(\(shape))")
        }
    }

    func testBetaMoments() {
        var rng = SeededGenerator(seed: 2)
        let n = 40_000
        for (a, b) in [(1.0, 1.0), (2.0, 8.0), (0.5, 0.5), (30.0, 10.0)] {
            let p = BetaPosterior(alpha: a, beta: b)
            let (m, v) = moments(n) { p.sample(&rng) }
            let mean = a / (a + b), variance = a * b / ((a + b) * (a + b) * (a + b + 1))
            // Five standard errors of the sample mean; 5% of the variance (its standard error here is under 1%:
            // Beta(30, 10)'s variance is 0.0046, so an absolute 0.01 would accept any variance at all).
            XCTAssertEqual(m, mean, accuracy: 5 * (variance / Double(n)).squareRoot(), "Beta(\(a), \(b)) mean")
            XCTAssertEqual(v, variance, accuracy: 0.05 * variance, "Beta(\(a), \(b)) variance")
        }
    }

    func testDirichletIsOnTheSimplexAndUniformInMean() {
        var rng = SeededGenerator(seed: 3)
        var sum = [Double](repeating: 0, count: 4)
        for _ in 0..<20_000 {
            let w = GammaSampler.dirichlet(count: 4, &rng)
            XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-12)
            for i in 0..<4 { sum[i] += w[i] / 20_000 }
        }
        for s in sum { XCTAssertEqual(s, 0.25, accuracy: 0.01) }
    }

    func testGeneratorReplaysAndStreamsAreIndependent() throws {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        XCTAssertEqual((0..<5).map { _ in a.next() }, (0..<5).map { _ in b.next() })
        var c = SeededGenerator(seed: 42, stream: "x"), d = SeededGenerator(seed: 42, stream: "y")
        XCTAssertNotEqual(c.next(), d.next())
        let saved = try JSONEncoder().encode(a)
        var restored = try JSONDecoder().decode(SeededGenerator.self, from: saved)
        XCTAssertEqual(a.next(), restored.next())
    }
}
