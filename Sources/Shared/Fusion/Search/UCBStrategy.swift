import Foundation
import Runtime

/// UCB1 over a discretised arm set: weight vectors on a simplex grid with step 1/m (all ways to split m units
/// among the k candidates) crossed with every subset, method and instruction. m is the largest value up to
/// `ucbResolution` that keeps the set within `ucbMaxArms` (at least 1: the single-model vertices).
///
/// Untried arms go first, in random order. Then each ask takes the arm maximising
/// mean F1 + c · sqrt(ln N / n). Arms in flight count in n and N (so a batch spreads over different arms
/// instead of repeating the current leader) but not in the mean; an arm with only in-flight pulls uses the
/// overall mean.
public struct UCBStrategy: SearchStrategy, Equatable {
    /// Grid step is 1 / resolution.
    public let resolution: Int
    public private(set) var counts: [Int]
    public private(set) var sums: [Double]

    init(_ space: SearchSpace, _ options: SearchOptions) {
        let others = space.subsets.count * space.methods.count * space.instructionCount
        var m = max(options.ucbResolution, 1)
        while m > 1 && Self.compositions(m, space.candidates.count) * others > options.ucbMaxArms { m -= 1 }
        resolution = m
        let total = Self.compositions(m, space.candidates.count) * others
        counts = Array(repeating: 0, count: total)
        sums = Array(repeating: 0, count: total)
    }

    /// Number of ways to split m units among k parts: C(m + k - 1, k - 1).
    static func compositions(_ m: Int, _ k: Int) -> Int {
        guard k > 1 else { return 1 }
        var r = 1.0
        for i in 1..<k { r = r * Double(m + i) / Double(i) }
        return Int(r.rounded())
    }

    /// The weight grid in a fixed order (lexicographic by the first model's share, descending).
    static func weightGrid(_ m: Int, _ k: Int) -> [[Double]] {
        var out: [[Double]] = []
        var parts = [Int](repeating: 0, count: k)
        func fill(_ i: Int, _ left: Int) {
            if i == k - 1 { parts[i] = left; out.append(parts.map { Double($0) / Double(m) }); return }
            for v in stride(from: left, through: 0, by: -1) { parts[i] = v; fill(i + 1, left - v) }
        }
        fill(0, m)
        return out
    }

    func decode(_ index: Int, _ space: SearchSpace) -> ArmChoice {
        var rest = index
        let instruction = rest % space.instructionCount; rest /= space.instructionCount
        let method = rest % space.methods.count; rest /= space.methods.count
        let subset = rest % space.subsets.count; rest /= space.subsets.count
        let weights = Self.weightGrid(resolution, space.candidates.count)[rest]
        return ArmChoice(weights: weights, subset: subset, method: method, instruction: instruction, gridIndex: index)
    }

    mutating func propose(_ space: SearchSpace, _ options: SearchOptions, _ context: SearchContext,
                          _ rng: inout SeededGenerator) -> ArmChoice {
        var pending = [Int](repeating: 0, count: counts.count)
        for c in context.inFlight { if let g = c.gridIndex, g < pending.count { pending[g] += 1 } }
        let untried = counts.indices.filter { counts[$0] == 0 && pending[$0] == 0 }
        if !untried.isEmpty { return decode(untried[Int(rng.next() % UInt64(untried.count))], space) }
        let completed = counts.reduce(0, +)
        let overallMean = completed > 0 ? sums.reduce(0, +) / Double(completed) : 0
        let logN = log(Double(max(completed + pending.reduce(0, +), 1)))
        var best = 0, bestScore = -Double.infinity
        for a in counts.indices {
            let n = Double(counts[a] + pending[a])
            let mean = counts[a] > 0 ? sums[a] / Double(counts[a]) : overallMean
            let score = mean + options.ucbExploration * (logN / n).squareRoot()
            if score > bestScore { best = a; bestScore = score }
        }
        return decode(best, space)
    }

    mutating func observe(_ choice: ArmChoice, f1: Double, success: Bool, _ space: SearchSpace, _ options: SearchOptions) {
        guard let g = choice.gridIndex, g < counts.count else { return }
        counts[g] += 1
        sums[g] += f1
    }
}
