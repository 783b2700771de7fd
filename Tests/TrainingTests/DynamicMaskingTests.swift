@testable import EncoderModel
@testable import Runtime
@testable import Tokenizers
@testable import Training
import XCTest

/// BERT's dynamic masking: rates, never special tokens, labels, determinism, independence from batch makeup.
final class DynamicMaskingTests: XCTestCase {
    static let special = SpecialTokens(pad: 0, unk: 1, cls: 2, sep: 3, mask: 4)

    static func batch(rows: Int, seqLen: Int, seed: UInt64) -> TokenBatch {
        var rng = RandomSource(seed: seed)
        let encs = (0..<rows).map { r -> Encoding in
            let len = 3 + Int(rng.next() % UInt64(seqLen - 2))
            var ids: [Int32] = [2]
            for i in 1..<(len - 1) { ids.append(i % 9 == 0 ? 3 : Int32(5 + rng.next() % 995)) }  // a [SEP] inside, like the instruction format
            ids.append(3)
            return Encoding(ids: ids, tokens: ids.map { "\($0)" })
        }
        return TokenBatch.padded(encs, pad: 0)
    }

    func testRatesSpecialTokensAndLabels() {
        let b = Self.batch(rows: 400, seqLen: 128, seed: 1)
        let (masked, labels) = DynamicMasking().apply(to: b, special: Self.special, vocabSize: 1000, key: 77)
        var eligible = 0, selected = 0, toMask = 0, kept = 0, random = 0
        for i in b.ids.indices {
            let original = b.ids[i]
            let isSpecial = b.mask[i] == 0 || original <= 4
            if isSpecial {
                XCTAssertEqual(labels[i], Losses.ignoreIndex, "special or padding position \(i) selected")
                XCTAssertEqual(masked.ids[i], original)
                continue
            }
            eligible += 1
            if labels[i] == Losses.ignoreIndex { XCTAssertEqual(masked.ids[i], original); continue }
            selected += 1
            XCTAssertEqual(labels[i], original, "label must be the original id")
            if masked.ids[i] == 4 { toMask += 1 } else if masked.ids[i] == original { kept += 1 } else {
                random += 1
                XCTAssertGreaterThan(masked.ids[i], 4, "random replacement must not be special")
            }
        }
        XCTAssertGreaterThan(eligible, 20_000)
        XCTAssertEqual(Double(selected) / Double(eligible), 0.15, accuracy: 0.01)
        XCTAssertEqual(Double(toMask) / Double(selected), 0.8, accuracy: 0.025)
        // A random draw equals the original 1 time in ~995, so "kept" is ~10% plus that sliver.
        XCTAssertEqual(Double(kept) / Double(selected), 0.1, accuracy: 0.02)
        XCTAssertEqual(Double(random) / Double(selected), 0.1, accuracy: 0.02)
        XCTAssertEqual(masked.mask, b.mask)
    }

    func testDeterministicPerKeyAndIndependentOfBatchMakeup() {
        let b = Self.batch(rows: 8, seqLen: 40, seed: 2)
        let m = DynamicMasking()
        let a1 = m.apply(to: b, special: Self.special, vocabSize: 1000, key: 5, firstRow: 16)
        let a2 = m.apply(to: b, special: Self.special, vocabSize: 1000, key: 5, firstRow: 16)
        XCTAssertEqual(a1.batch.ids, a2.batch.ids)
        XCTAssertEqual(a1.labels, a2.labels)
        let other = m.apply(to: b, special: Self.special, vocabSize: 1000, key: 6, firstRow: 16)
        XCTAssertNotEqual(other.labels, a1.labels, "another step must mask other positions")
        // Row 3 alone (global row 19) masks exactly as it did inside the batch, despite different padding.
        let t = b.seqLen, len = b.lengths[3]
        let single = TokenBatch.padded([Encoding(ids: Array(b.ids[(3 * t)..<(3 * t + len)]), tokens: [])], pad: 0)
        let s = m.apply(to: single, special: Self.special, vocabSize: 1000, key: 5, firstRow: 19)
        XCTAssertEqual(Array(s.labels.prefix(len)), Array(a1.labels[(3 * t)..<(3 * t + len)]))
        XCTAssertEqual(Array(s.batch.ids.prefix(len)), Array(a1.batch.ids[(3 * t)..<(3 * t + len)]))
    }
}
