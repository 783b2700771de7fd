@testable import EncoderModel
import Foundation
import XCTest

/// The vectorised exp/erf against libm over their useful ranges.
final class FastMathTests: XCTestCase {
    func testErfMatchesLibm() {
        var worst: Float = 0
        var x: Float = -6
        while x < 6 {
            let v = FastMath.erf(FastMath.V(repeating: x))
            worst = max(worst, abs(v[0] - erff(x)))
            x += 0.0007
        }
        XCTAssertLessThan(worst, 5e-7)
    }

    func testExpMatchesLibmRelatively() {
        var worst: Float = 0
        var x: Float = -80
        while x < 80 {
            let v = FastMath.exp(FastMath.V(repeating: x))
            worst = max(worst, abs(v[0] - expf(x)) / expf(x))
            x += 0.013
        }
        XCTAssertLessThan(worst, 5e-7)
        XCTAssertEqual(FastMath.exp(FastMath.V(repeating: -1000))[0], 0, accuracy: 1e-37)
    }

    func testGeluAndSoftmaxKernels() {
        let n = 37
        let x = (0..<n).map { Float($0) * 0.25 - 4 }
        var out = [Float](repeating: 0, count: n)
        x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { Kernels.gelu(xp.baseAddress!, $0.baseAddress!, count: n) } }
        for i in 0..<n { XCTAssertEqual(out[i], 0.5 * x[i] * (1 + erff(x[i] / 2.0.squareRoot().float)), accuracy: 1e-6) }
        var row: [Float] = [1, 2, 3, 100, 100]
        row.withUnsafeMutableBufferPointer { Kernels.softmaxRow($0.baseAddress!, valid: 3, total: 5) }
        let z = expf(1) + expf(2) + expf(3)
        XCTAssertEqual(row[0], expf(1) / z, accuracy: 1e-6)
        XCTAssertEqual(row[2], expf(3) / z, accuracy: 1e-6)
        XCTAssertEqual(row[3], 0)
        XCTAssertEqual(row[4], 0)
    }
}

private extension Double { var float: Float { Float(self) } }
