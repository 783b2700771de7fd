import Foundation
import XCTest
@testable import Shared

/// Timing of one MiniLM training step (forward, mean-pool CE head, backward, AdamW). Opt-in: set
/// UNIGUARD_PERF=1 (UNIGUARD_PERF_THREADS=n to pin threads) and run optimised (`swift test -c release -Xswiftc -enable-testing --filter BackwardPerf`).
final class BackwardPerfTests: XCTestCase {
    func testMiniLMTrainingStepTiming() throws {
        guard ProcessInfo.processInfo.environment["UNIGUARD_PERF"] == "1" else { throw XCTSkip("set UNIGUARD_PERF=1") }
        if let n = ProcessInfo.processInfo.environment["UNIGUARD_PERF_THREADS"].flatMap({ Int($0) }) {
            Parallel.setThreads(n); BLASRuntime.setThreads(n)
        }
        let dir = try ModelDirectory(try TestSupport.baseModel())
        let c = dir.config
        let extra = ClassificationHead.specs(hidden: c.hiddenSize, outputs: 2)
        let encoder = try dir.loadEncoder(extra: extra) { HeadNames.initialize(extra, in: $0, seed: 1) }
        let head = try ClassificationHead.meanPoolCrossEntropy(config: c, params: encoder.params)
        // Reference: what one big sgemm reaches right now, to judge the step's figures on a shared machine.
        let (m, k, n) = (2048, 384, 1536)
        let a = Tensor(zeros: [m, k]), w = Tensor(zeros: [n, k]), y = Tensor(zeros: [m, n])
        a.fill(0.01); w.fill(0.02)
        var gemmCPU: [Double] = []
        for _ in 0..<5 {
            let c0 = Self.cpuSeconds()
            BLAS.linear(a.data, rows: m, inFeatures: k, weight: w.data, bias: nil, outFeatures: n, into: y.data)
            gemmCPU.append(Self.cpuSeconds() - c0)
        }
        print("[perf] sgemm \(m)x\(k)x\(n): \(String(format: "%.0f", 2 * Double(m * k * n) / gemmCPU.sorted()[2] / 1e9)) GFLOP per CPU-second")
        for (b, t) in [(32, 64), (16, 128)] {
            var rng = RandomSource(seed: 5)
            let ids = (0..<(b * t)).map { i in i % t == 0 ? Int32(101) : Int32(1000 + rng.next() % 20_000) }
            let batch = TokenBatch(batch: b, seqLen: t, ids: ids, mask: [Float](repeating: 1, count: b * t),
                                   typeIds: [Int32](repeating: 0, count: b * t), lengths: [Int](repeating: t, count: b))
            let labels = (0..<b).map { Int32($0 % 2) }
            let ws = EncoderWorkspace(config: c, training: true)
            let gw = EncoderGradientWorkspace(config: c)
            let grads = encoder.params.makeLike()
            let opt = AdamW(params: encoder.params)
            var fwd: [Double] = [], bwd: [Double] = [], upd: [Double] = []
            var cpu: [Double] = []
            for step in 0..<4 {
                let c0 = Self.cpuSeconds()
                ws.dropout = DropoutSpec(config: c, seed: RandomSource.key(1, UInt64(step)))
                let t0 = Date()
                let hidden = try encoder.forward(batch, workspace: ws)
                _ = try head.forward(hidden: hidden, batch: batch, labels: labels, dropout: ws.dropout)
                let t1 = Date()
                grads.fill(0)
                gw.prepare(for: ws)
                head.backward(batch: batch, grads: grads, dHidden: gw.dHidden.data)
                encoder.backward(batch, workspace: ws, gradients: gw, into: grads)
                let t2 = Date()
                GradClip.clip(grads, maxNorm: 1)
                opt.step(grads: grads, lr: 2e-5)
                let t3 = Date()
                if step > 0 { cpu.append(Self.cpuSeconds() - c0) }
                if step > 0 {
                    fwd.append(t1.timeIntervalSince(t0)); bwd.append(t2.timeIntervalSince(t1)); upd.append(t3.timeIntervalSince(t2))
                }
            }
            func ms(_ x: [Double]) -> String { String(format: "%.0f", x.sorted()[x.count / 2] * 1000) }
            // Matmul FLOPs of the step: forward 2·tokens·layers·(4H² + 2HI) + attention 4·b·T²·H per layer; backward twice that.
            let h = Double(c.hiddenSize), inter = Double(c.intermediateSize), layers = Double(c.numLayers)
            let flops = 3 * (2 * Double(b * t) * layers * (4 * h * h + 2 * h * inter) + 4 * Double(b * t * t) * h * layers)
            print("[perf \(b)x\(t)] \(String(format: "%.0f", flops / cpu.sorted()[1] / 1e9)) matmul GFLOP per CPU-second over the whole step")
            let total = zip(zip(fwd, bwd), upd).map { $0.0 + $0.1 + $1 }.sorted()[1]
            print("[perf \(b)x\(t), \(Parallel.threads) threads] forward \(ms(fwd)) ms, backward \(ms(bwd)) ms, clip+AdamW \(ms(upd)) ms, step \(String(format: "%.0f", total * 1000)) ms, \(String(format: "%.1f", Double(b) / total)) samples/s; process CPU per step \(String(format: "%.0f", cpu.sorted()[1] * 1000)) ms (wall figures are noise on a busy machine)")
        }
    }

    /// CPU seconds used by this process (all threads): a steadier measure than wall time on shared machines.
    static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
