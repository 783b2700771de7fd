import CBLAS

/// Matrix products through OpenBLAS; every matmul in the project goes through here.
public enum BLAS {
    /// C[M,N] = alpha * op(A) * op(B) + beta * C, row-major.
    @inline(__always)
    public static func gemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[M,N] = x[M,K] * W[N,K]^T + bias[N]: a PyTorch Linear with weights stored [out, in].
    public static func linear(
        _ x: UnsafePointer<Float>, rows m: Int, inFeatures k: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outFeatures n: Int,
        into y: UnsafeMutablePointer<Float>
    ) {
        if let bias {
            for r in 0..<m { (y + r * n).update(from: bias, count: n) }
        }
        gemm(transB: true, m: m, n: n, k: k, a: x, lda: k, b: weight, ldb: k,
             beta: bias == nil ? 0 : 1, c: y, ldc: n)
    }

    /// Runs `body` with OpenBLAS limited to one thread. For regions where our own pool already runs many small
    /// products at once (attention per sequence and head): products above OpenBLAS's threading cutoff (e.g.
    /// 128x128x32) would otherwise each try to split over its thread pool from inside our threads, serialising
    /// on its server lock and oversubscribing the cores. The count is process-wide; it is restored afterwards.
    public static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        let before = openblas_get_num_threads()
        if before <= 1 { return try body() }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(before) }
        return try body()
    }

    /// y += alpha * x over n elements.
    @inline(__always)
    public static func axpy(_ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
    }

    /// Dot product over n elements.
    @inline(__always)
    public static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        cblas_sdot(Int32(n), x, 1, y, 1)
    }

    /// x *= alpha over n elements.
    @inline(__always)
    public static func scale(_ n: Int, _ alpha: Float, _ x: UnsafeMutablePointer<Float>) {
        cblas_sscal(Int32(n), alpha, x, 1)
    }
}
