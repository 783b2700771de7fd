@testable import EncoderModel
import Foundation
@testable import Training
import XCTest

/// The packed Q/K/V parameter order changed where AdamW's moments sit in the flat buffer; optimizer
/// checkpoints written before it (no order metadata) must resume with every moment back on its own tensor.
final class OptimizerResumeLayoutTests: XCTestCase {
    static let config = BertConfig(vocabSize: 20, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 16,
                                   maxPositions: 8, typeVocabSize: 2)

    /// A store whose every slot holds values that name it (slot index + position / 1000).
    private func optimizer() -> AdamW {
        let store = ParameterStore(specs: EncoderNames.specs(Self.config, pooler: true))
        return AdamW(params: store)
    }

    private func fill(_ o: AdamW) {
        for (i, s) in o.params.slots.enumerated() {
            for j in 0..<s.count { o.m.data[s.offset + j] = Float(i) + Float(j) / 1000; o.v.data[s.offset + j] = -Float(i) }
        }
    }

    func testLegacyOrderCheckpointResumesIntoPackedLayout() throws {
        let source = optimizer()
        fill(source)
        let names = source.params.slots.map(\.name)
        let legacy = EncoderNames.legacyOrder(names)
        XCTAssertEqual(Set(legacy), Set(names))
        XCTAssertNotEqual(legacy, names, "the packed layout should differ from the legacy one")
        // Lay the moments out in the legacy order, as an older version wrote them (no metadata).
        let flatM = Tensor(zeros: [source.m.count]), flatV = Tensor(zeros: [source.v.count])
        var at = 0
        for name in legacy {
            let s = source.params.slot(name)!
            (flatM.data + at).update(from: source.m.data + s.offset, count: s.count)
            (flatV.data + at).update(from: source.v.data + s.offset, count: s.count)
            at += s.count
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optlayout-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try SafetensorsWriter.write(path: dir.appendingPathComponent(CheckpointFiles.optimizerFile).path,
                                    tensors: [("exp_avg", flatM), ("exp_avg_sq", flatV)])
        let restored = optimizer()
        try CheckpointFiles.restore(restored, from: dir, steps: 5)
        XCTAssertEqual(restored.stepCount, 5)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: restored.m.data, count: restored.m.count)),
                       Array(UnsafeBufferPointer(start: source.m.data, count: source.m.count)))
        XCTAssertEqual(Array(UnsafeBufferPointer(start: restored.v.data, count: restored.v.count)),
                       Array(UnsafeBufferPointer(start: source.v.data, count: source.v.count)))
    }

    func testCurrentCheckpointRoundTripsAndUnknownOrderIsRefused() throws {
        let source = optimizer()
        fill(source)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optlayout-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try CheckpointFiles.write(source, state: ["step": 3], into: dir)
        let restored = optimizer()
        try CheckpointFiles.restore(restored, from: dir, steps: 3)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: restored.m.data, count: restored.m.count)),
                       Array(UnsafeBufferPointer(start: source.m.data, count: source.m.count)))
        try SafetensorsWriter.write(path: dir.appendingPathComponent(CheckpointFiles.optimizerFile).path,
                                    tensors: [("exp_avg", source.m), ("exp_avg_sq", source.v)],
                                    metadata: [CheckpointFiles.orderKey: "something-newer"])
        XCTAssertThrowsError(try CheckpointFiles.restore(optimizer(), from: dir, steps: 3)) { error in
            XCTAssertTrue("\(error)".contains("something-newer"), "\(error)")
        }
    }
}
