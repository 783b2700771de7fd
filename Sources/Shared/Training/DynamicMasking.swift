import EncoderModel
import Runtime
import Tokenizers
/// BERT's dynamic masking for the MLM loss: each step draws fresh positions. A real, non-special token is
/// selected with probability `rate` (15%); a selected token becomes [MASK] 80% of the time, a random
/// non-special token 10%, and stays itself 10%. Labels hold the original id at selected positions and -100
/// elsewhere. Draws are counter-based on (seed, row, position), so a resumed run masks exactly as the
/// uninterrupted one and a row's masks do not depend on what else is in its batch.
public struct DynamicMasking: Sendable {
    public var rate: Float = 0.15
    public var maskFraction: Float = 0.8
    public var randomFraction: Float = 0.1

    public init(rate: Float = 0.15, maskFraction: Float = 0.8, randomFraction: Float = 0.1) {
        self.rate = rate; self.maskFraction = maskFraction; self.randomFraction = randomFraction
    }

    /// The masked batch and its MLM labels. `special` ids are never selected nor drawn as random
    /// replacements; `key` identifies the step (e.g. `RandomSource.key(seed, step)`), `firstRow` the global
    /// index of the batch's first sequence.
    public func apply(to batch: TokenBatch, special: SpecialTokens, vocabSize: Int, key: UInt64, firstRow: Int = 0) -> (batch: TokenBatch, labels: [Int32]) {
        var ids = batch.ids
        var labels = [Int32](repeating: Losses.ignoreIndex, count: ids.count)
        let never: Set<Int32> = [special.pad, special.unk, special.cls, special.sep, special.mask]
        let t = batch.seqLen
        ids.withUnsafeMutableBufferPointer { out in
            labels.withUnsafeMutableBufferPointer { lab in
                for r in 0..<batch.batch {
                    let rowKey = RandomSource.key(key, UInt64(firstRow + r))
                    for c in 0..<t {
                        let i = r * t + c
                        guard batch.mask[i] != 0, !never.contains(out[i]) else { continue }
                        let draw = RandomSource.at(rowKey, UInt64(c) &* 2)
                        guard Self.unit(draw) < rate else { continue }
                        lab[i] = out[i]
                        let kind = Self.unit(RandomSource.at(rowKey, UInt64(c) &* 2 &+ 1))
                        if kind < maskFraction {
                            out[i] = special.mask
                        } else if kind < maskFraction + randomFraction {
                            out[i] = Self.randomToken(key: rowKey, position: c, vocabSize: vocabSize, avoiding: never)
                        }
                    }
                }
            }
        }
        return (TokenBatch(batch: batch.batch, seqLen: t, ids: ids, mask: batch.mask, typeIds: batch.typeIds, lengths: batch.lengths), labels)
    }

    /// A uniform float in [0, 1) from 24 bits of a hash.
    @inline(__always)
    static func unit(_ bits: UInt64) -> Float { Float(bits >> 40) * 0x1p-24 }

    /// A uniformly drawn id that is not special (redrawn on the rare special hit).
    static func randomToken(key: UInt64, position: Int, vocabSize: Int, avoiding never: Set<Int32>) -> Int32 {
        var counter = UInt64(position) &* 64 &+ (1 << 40)
        while true {
            let id = Int32(truncatingIfNeeded: RandomSource.at(key, counter) % UInt64(vocabSize))
            if !never.contains(id) { return id }
            counter &+= 1
        }
    }
}
