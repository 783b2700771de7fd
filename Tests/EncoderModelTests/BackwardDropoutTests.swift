@testable import EncoderModel
import Foundation
@testable import Tokenizers
import XCTest

/// Training-mode dropout: off in eval mode, deterministic by seed, right keep rate, and independent of how a
/// global batch is split or padded (what data-parallel workers rely on).
final class BackwardDropoutTests: XCTestCase {
    private func setup() throws -> (BertEncoder, BertConfig) {
        let store = BackwardGradientCheckTests.randomStore(extra: [], pooler: false)
        let c = BackwardGradientCheckTests.config
        return (try BertEncoder(config: c, params: store), c)
    }

    private func run(_ enc: BertEncoder, _ batch: TokenBatch, training: Bool, dropout: DropoutSpec?) throws -> [Float] {
        let ws = EncoderWorkspace(config: enc.config, training: training)
        ws.dropout = dropout
        let out = try enc.forward(batch, workspace: ws)
        return Array(UnsafeBufferPointer(start: out, count: batch.batch * batch.seqLen * enc.config.hiddenSize))
    }

    func testEvalModeAndZeroRatesLeaveTheForwardUnchanged() throws {
        let (enc, _) = try setup()
        let b = BackwardGradientCheckTests.batch
        let inference = try run(enc, b, training: false, dropout: nil)
        XCTAssertEqual(try run(enc, b, training: true, dropout: nil), inference)
        XCTAssertEqual(try run(enc, b, training: true, dropout: DropoutSpec(hidden: 0, attention: 0, seed: 5)), inference)
        XCTAssertNotEqual(try run(enc, b, training: true, dropout: DropoutSpec(hidden: 0.1, attention: 0.1, seed: 5)), inference)
    }

    func testMasksAreDeterministicBySeed() throws {
        let (enc, _) = try setup()
        let b = BackwardGradientCheckTests.batch
        let d = DropoutSpec(hidden: 0.1, attention: 0.1, seed: 9)
        let a = try run(enc, b, training: true, dropout: d)
        XCTAssertEqual(try run(enc, b, training: true, dropout: d), a)
        var other = d
        other.seed = 10
        XCTAssertNotEqual(try run(enc, b, training: true, dropout: other), a)
    }

    func testKeepRateAndScaling() {
        let n = 64 * 1024
        let x = Tensor(zeros: [n])
        x.fill(1)
        let mask = DropoutMask()
        DropoutKernels.hidden(x.data, mask: mask, rows: 4, seqLen: 16, width: 1024, rate: 0.25,
                              spec: DropoutSpec(hidden: 0.25, attention: 0, seed: 1), site: .embeddings, layer: 0)
        var kept = 0
        for i in 0..<n where mask.data[i] != 0 {
            kept += 1
            XCTAssertEqual(x.data[i], 1 / 0.75, accuracy: 1e-6)
        }
        XCTAssertEqual(Double(kept) / Double(n), 0.75, accuracy: 0.01)
        XCTAssertEqual(FastMath.sum(n, x.data) / Float(n), 1, accuracy: 0.02, "dropout keeps the expected value")
    }

    /// A sequence run alone (trimmed to its own length, with its global row index) gets the same masks and
    /// output as inside the full padded batch.
    func testMasksIndependentOfBatchSplitAndPadding() throws {
        let (enc, c) = try setup()
        let full = BackwardGradientCheckTests.batch
        let d = DropoutSpec(hidden: 0.2, attention: 0.2, seed: 77, firstRow: 100)
        let all = try run(enc, full, training: true, dropout: d)
        let h = c.hiddenSize, t = full.seqLen
        let row = 1, len = 3
        let single = TokenBatch(batch: 1, seqLen: len, ids: Array(full.ids[(row * t)..<(row * t + len)]),
                                mask: Array(full.mask[(row * t)..<(row * t + len)]),
                                typeIds: Array(full.typeIds[(row * t)..<(row * t + len)]), lengths: [len])
        var alone = d
        alone.firstRow = 101
        let out = try run(enc, single, training: true, dropout: alone)
        for i in 0..<(len * h) { XCTAssertEqual(out[i], all[row * t * h + i], accuracy: 1e-5) }
    }
}
