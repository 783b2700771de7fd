import Foundation

/// Spherical linear interpolation of one tensor from v0 (t = 0) to v1 (t = 1), as mergekit's `slerp`:
/// directions are compared after L2 normalisation (norms <= 1e-8 are left alone), nearly colinear tensors
/// (|cos| > 0.9995) fall back to linear interpolation, and the coefficients apply to the unnormalised tensors.
enum SlerpKernel {
    static let dotThreshold: Float = 0.9995

    static func run(v0: UnsafePointer<Float>, v1: UnsafePointer<Float>, t: Double, count n: Int,
                    out: UnsafeMutablePointer<Float>) {
        var n0 = 0.0, n1 = 0.0, d01 = 0.0
        for e in 0..<n {
            let a = Double(v0[e]), b = Double(v1[e])
            n0 += a * a; n1 += b * b; d01 += a * b
        }
        n0 = n0.squareRoot(); n1 = n1.squareRoot()
        let eps = 1e-8
        let dot = Float(d01 / (n0 > eps ? n0 : 1) / (n1 > eps ? n1 : 1))
        let s0: Float, s1: Float
        if abs(dot) > dotThreshold {
            s0 = Float(1 - t); s1 = Float(t)
        } else {
            // Scalar chain in float32, like mergekit's numpy float32 code.
            let theta0 = acos(dot)
            let sinTheta0 = sin(theta0)
            let thetaT = theta0 * Float(t)
            s0 = sin(theta0 - thetaT) / sinTheta0
            s1 = sin(thetaT) / sinTheta0
        }
        for e in 0..<n { out[e] = s0 * v0[e] + s1 * v1[e] }
    }
}
