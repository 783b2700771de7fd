import Foundation
@testable import Fusion

/// A synthetic merge-search problem: F1 peaks at hidden weights with one subset (and one method) being best.
struct SyntheticReward {
    let optimum: [Double]
    let bestSubset: Int
    let bestMethod: Int

    static let standard = SyntheticReward(optimum: [0.6, 0.3, 0.1], bestSubset: 1, bestMethod: 0)

    static func space(methods: [MergeMethodKind] = [.linear], instructions: Int = 1) -> SearchSpace {
        SearchSpace(candidates: ["m-a", "m-b", "m-c"], methods: methods,
                    subsets: [.all, .attention, .attentionOutput, .allButClassifier],
                    instructionCount: instructions, baseModel: "m-base")
    }

    /// 0.9 at the optimum, minus half the L1 distance of the weights, minus 0.1 off the best subset / method.
    func f1(_ arm: MergeArm, _ space: SearchSpace) -> Double {
        let distance = zip(arm.weights, optimum).map { abs($0 - $1) }.reduce(0, +) / 2
        var f = 0.9 - 0.5 * distance
        if space.subsets.firstIndex(of: arm.subset) != bestSubset { f -= 0.1 }
        if space.methods.firstIndex(of: arm.method) != bestMethod { f -= 0.1 }
        return max(0, min(1, f))
    }

    /// Runs `iterations` sequential ask/tell rounds; returns every F1 in order.
    func run(_ search: inout MergeSearch, iterations: Int) throws -> [Double] {
        var out: [Double] = []
        for _ in 0..<iterations {
            let arm = search.ask()
            let f = f1(arm, search.space)
            try search.tell(arm.id, f1: f, seconds: 0.01)
            out.append(f)
        }
        return out
    }
}
