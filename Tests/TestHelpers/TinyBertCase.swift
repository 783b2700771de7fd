@testable import EncoderModel
import EncoderModel
import Foundation
import Tokenizers
@testable import Tokenizers
import XCTest

/// One `tiny_bert/case_*.safetensors` ground-truth case from PyTorch: batch, parameters, gradients, AdamW step.
public struct TinyBertCase {
    public let file: SafetensorsFile
    public let config: BertConfig
    public let batch: TokenBatch

    public init(_ name: String) throws {
        file = try SafetensorsFile(url: TestSupport.fixture("tiny_bert/\(name).safetensors"))
        config = try BertConfig.load(from: TestSupport.fixture("tiny_bert/config.json"))
        let ids = try file.int64s("input_ids"), mask = try file.int64s("attention_mask")
        let shape = file.entry("input_ids")!.shape
        let (b, t) = (shape[0], shape[1])
        batch = TokenBatch(batch: b, seqLen: t, ids: ids.map { Int32($0) }, mask: mask.map { Float($0) },
                           typeIds: [Int32](repeating: 0, count: b * t),
                           lengths: (0..<b).map { r in Int(mask[(r * t)..<(r * t + t)].reduce(0, +)) })
    }

    public func int32s(_ name: String) throws -> [Int32] { try file.int64s(name).map { Int32($0) } }

    /// The fixture's name for one of our canonical tensors under `kind` ("param.", "grad.", "adamw.").
    public func stored(_ kind: String, _ canonical: String) -> String { kind + HeadNames.transformers(canonical) }

    /// A parameter store with `specs`, filled from the case's `param.*` tensors.
    public func store(specs: [(name: String, shape: [Int])]) throws -> ParameterStore {
        let s = ParameterStore(specs: specs)
        for slot in s.slots {
            let t = try file.tensor(stored("param.", slot.name), shape: slot.shape)
            (s.values.data + slot.offset).update(from: t.data, count: slot.count)
        }
        return s
    }

    /// Canonical names of every tensor the case stores under `kind` (each must exist in our store).
    public func names(_ kind: String) -> [String] {
        file.names.filter { $0.hasPrefix(kind) }.map { n in
            let s = String(n.dropFirst(kind.count))
            return s.hasPrefix("bert.") ? String(s.dropFirst(5)) : s
        }
    }
}

/// Comparison helpers reporting the worst error, relative to the reference tensor's largest magnitude.
public enum Compare {
    /// max |a − e| / max(max |e|, floor) (absolute when both are zero).
    public static func relativeToMax(_ a: UnsafePointer<Float>, _ e: UnsafePointer<Float>, count n: Int, floor: Float = 0) -> Float {
        var worst: Float = 0, scale: Float = floor
        for i in 0..<n { worst = max(worst, abs(a[i] - e[i])); scale = max(scale, abs(e[i])) }
        return scale > 0 ? worst / scale : worst
    }

    public static func maxAbs(_ a: UnsafePointer<Float>, _ e: UnsafePointer<Float>, count n: Int) -> Float {
        var worst: Float = 0
        for i in 0..<n { worst = max(worst, abs(a[i] - e[i])) }
        return worst
    }
}
