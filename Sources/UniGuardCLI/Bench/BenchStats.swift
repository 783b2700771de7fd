import Foundation

/// Timing statistics in the same shape as the peer benchmark's JSON.
struct BenchStats {
    let samples: [Double]  // seconds

    var json: [String: Any] {
        let ms = samples.map { $0 * 1000 }.sorted()
        func pct(_ p: Double) -> Double { ms[min(ms.count - 1, Int((p / 100 * Double(ms.count - 1)).rounded()))] }
        return ["n": ms.count, "median_ms": round3(pct(50)), "p99_ms": round3(pct(99)),
                "mean_ms": round3(ms.reduce(0, +) / Double(ms.count)), "min_ms": round3(ms.first ?? 0), "max_ms": round3(ms.last ?? 0)]
    }

    static func time(runs: Int, _ body: () throws -> Void) rethrows -> BenchStats {
        var s: [Double] = []
        s.reserveCapacity(runs)
        for _ in 0..<runs {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            s.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return BenchStats(samples: s)
    }
}

func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

/// Peak resident set size of this process in MiB (ru_maxrss).
func peakRSSMiB() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return (Double(u.ru_maxrss) / 1024 * 10).rounded() / 10
}

func printJSON(_ obj: [String: Any]) {
    let d = try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
    print(String(decoding: d, as: UTF8.self))
}
