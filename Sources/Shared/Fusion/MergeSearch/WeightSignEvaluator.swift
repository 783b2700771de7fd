import Foundation
import Guards
import Runtime

/// A cheap, deterministic evaluator for tests and smoke runs: it really merges the arm (`ModelMerger` into
/// memory) and then "classifies" each validation line from the merged weights, without running the encoder.
///
/// Rule: the line's SHA-256 picks 8 elements of the merged float tensors (in name order) and 8 signs; the
/// sample is predicted unsafe when the signed sum of those elements is positive. Different weights give
/// different merged tensors and so different F1, reproducibly on every machine.
///
/// Options: `min_ms` pads each evaluation to at least that many milliseconds, emulating real model cost so
/// scheduling and fault tests have arms in flight to interrupt.
public struct WeightSignEvaluator: ArmEvaluating {
    public init() {}

    public func evaluate(_ input: ArmEvaluation) throws -> ConfusionCounts {
        let started = ContinuousClock.now
        let sink = InMemoryTensorSink()
        try ModelMerger.merge(input.mergeConfig, into: sink)
        let tensors = sink.names.sorted().compactMap { sink.tensors[$0] }.filter { $0.count > 0 }
        let total = tensors.reduce(0) { $0 + $1.count }
        guard total > 0 else { throw ArmEvaluationError.emptyModel }
        // Prefix offsets so a flat index maps to (tensor, element) by binary search.
        var offsets: [Int] = []
        var running = 0
        for t in tensors { offsets.append(running); running += t.count }

        var counts = ConfusionCounts()
        for (i, line) in input.validationLines.enumerated() {
            let unsafe = try Self.label(line, index: i)
            let digest = SHA256.hash(Array(line.utf8))
            var score = 0.0
            for j in 0..<8 {
                let word = digest[j * 4..<j * 4 + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                let flat = Int(word % UInt32(truncatingIfNeeded: total))
                var lo = 0, hi = offsets.count - 1
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    if offsets[mid] <= flat { lo = mid } else { hi = mid - 1 }
                }
                let value = Double(tensors[lo].data[flat - offsets[lo]])
                score += (digest[(j + 16) % 32] & 1) == 0 ? value : -value
            }
            counts.add(predictedUnsafe: score > 0, actuallyUnsafe: unsafe)
        }
        if let minMs = input.options["min_ms"], minMs > 0 {
            let remaining = Duration.milliseconds(Int64(minMs)) - (ContinuousClock.now - started)
            if remaining > .zero { Thread.sleep(forTimeInterval: Self.seconds(remaining)) }
        }
        return counts
    }

    /// The sample's label: "unsafe" is positive, "safe" negative; anything else is an error.
    static func label(_ line: String, index: Int) throws -> Bool {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
            throw ArmEvaluationError.badSample(line: index + 1, reason: "not a JSON object")
        }
        switch object["label"] as? String {
        case "unsafe": return true
        case "safe": return false
        default: throw ArmEvaluationError.badSample(line: index + 1, reason: "label must be \"safe\" or \"unsafe\"")
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
