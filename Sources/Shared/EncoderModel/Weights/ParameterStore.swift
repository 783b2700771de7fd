import Foundation

/// All of a model's parameters in one flat buffer with named slots: AdamW, gradient all-reduce and
/// checkpointing then each run over a single contiguous array.
public final class ParameterStore: @unchecked Sendable {
    /// One named tensor's place in the flat buffer.
    public struct Slot: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public let slots: [Slot]
    private let index: [String: Int]
    public let values: Tensor

    public init(specs: [(name: String, shape: [Int])]) {
        var off = 0
        var s: [Slot] = []
        for (n, sh) in specs {
            s.append(Slot(name: n, shape: sh, offset: off))
            off += sh.reduce(1, *)
        }
        slots = s
        index = Dictionary(uniqueKeysWithValues: s.enumerated().map { ($1.name, $0) })
        values = Tensor(zeros: [off])
    }

    public var count: Int { values.count }
    public func slot(_ name: String) -> Slot? { index[name].map { slots[$0] } }
    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// Offset of a slot that the model layout guarantees exists.
    public func offset(_ name: String) -> Int {
        guard let i = index[name] else { preconditionFailure("parameter '\(name)' is not in the store") }
        return slots[i].offset
    }

    public func pointer(_ name: String) -> UnsafeMutablePointer<Float> { values.data + offset(name) }

    /// A copy of one slot as its own tensor.
    public func tensor(_ name: String) -> Tensor {
        let s = slots[index[name]!]
        let t = Tensor(zeros: s.shape)
        t.data.update(from: values.data + s.offset, count: s.count)
        return t
    }

    /// A zeroed buffer laid out like `values` (gradients, optimizer moments).
    public func makeLike() -> Tensor { Tensor(zeros: [count]) }

    /// An independent copy of the store (same layout, copied values).
    public func clone() -> ParameterStore {
        let c = ParameterStore(specs: slots.map { ($0.name, $0.shape) })
        c.values.copy(from: values)
        return c
    }
}
