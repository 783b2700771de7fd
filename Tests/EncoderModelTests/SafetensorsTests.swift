@testable import EncoderModel
import TestHelpers
import XCTest

/// Safetensors reading and writing, including every kind of damaged file.
final class SafetensorsTests: XCTestCase {
    private func write(_ bytes: [UInt8]) -> String {
        let p = TestSupport.tempDir().appendingPathComponent("t.safetensors").path
        FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    private func file(header: String, data: [UInt8]) -> String {
        var len = UInt64(header.utf8.count).littleEndian
        var bytes = [UInt8](Data(bytes: &len, count: 8))
        bytes += Array(header.utf8)
        bytes += data
        return write(bytes)
    }

    private func expectError(_ path: String, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafetensorsFile(path: path), file: file, line: line) { e in
            XCTAssertTrue("\(e)".contains(text), "\(e)", file: file, line: line)
            XCTAssertTrue("\(e)".contains(path), "error should name the file: \(e)", file: file, line: line)
        }
    }

    func testRoundTripWithMetadataAndInt64() throws {
        let dir = TestSupport.tempDir()
        let path = dir.appendingPathComponent("m.safetensors").path
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let w = try SafetensorsWriter(path: path, specs: [.init(name: "a", shape: [2, 3]), .init(name: "ids", shape: [3], dtype: .I64)],
                                      metadata: ["format": "pt", "note": "quote\"and/slash"])
        try w.write("a", a)
        try w.write("ids", int64s: [7, -1, 1 << 40])
        try w.finish()
        let f = try SafetensorsFile(path: path)
        XCTAssertEqual(f.metadata["note"], "quote\"and/slash")
        let t = try f.tensor("a")
        XCTAssertTrue(t.isView, "aligned F32 should be a zero-copy view")
        XCTAssertEqual(t.shape, [2, 3])
        XCTAssertEqual(t.array, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try f.int64s("ids"), [7, -1, 1 << 40])
        XCTAssertThrowsError(try f.tensor("a", shape: [3, 2])) { XCTAssertTrue("\($0)".contains("expects [3, 2]")) }
        XCTAssertThrowsError(try f.tensor("nope")) { XCTAssertTrue("\($0)".contains("'nope' is missing")) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp-\(getpid())"))
    }

    func testHalfPrecisionAndUnalignedDataAreConverted() throws {
        // F16 1.5 = 0x3E00, BF16 -2.0 = 0xC000; then an F32 at an odd offset (unaligned) holding 3.25.
        var f32 = Float(3.25).bitPattern.littleEndian
        let f32Bytes = [UInt8](Data(bytes: &f32, count: 4))
        let header = #"{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]},"u8":{"dtype":"U8","shape":[1],"data_offsets":[4,5]},"f":{"dtype":"F32","shape":[1],"data_offsets":[5,9]}}"#
        let p = file(header: header, data: [0x00, 0x3E, 0x00, 0xC0, 9] + f32Bytes)
        let f = try SafetensorsFile(path: p)
        XCTAssertEqual(try f.tensor("h").array, [1.5])
        XCTAssertEqual(try f.tensor("b").array, [-2.0])
        XCTAssertEqual(try f.int64s("u8"), [9])
        XCTAssertEqual(try f.tensor("f").array, [3.25])
        XCTAssertThrowsError(try f.tensor("u8")) { XCTAssertTrue("\($0)".contains("dtype U8")) }
    }

    func testDamagedFilesGiveClearErrors() {
        expectError(write([]), contains: "empty")
        expectError(write([1, 2, 3]), contains: "fewer than the 8-byte")
        expectError(file(header: "{", data: []), contains: "not valid JSON")
        expectError(write([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1]), contains: "header")
        expectError(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]), contains: "truncated")
        expectError(file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), contains: "tensor 'a'")
        expectError(file(header: #"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, data: [0]), contains: "dtype Q4")
        expectError(file(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), contains: "shape")
        expectError(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#,
                         data: Array(repeating: 0, count: 8)), contains: "overlaps")
        expectError(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0]), contains: "out of order")
        expectError(file(header: #"[1,2]"#, data: []), contains: "not a JSON object")
        expectError(TestSupport.tempDir().appendingPathComponent("absent.safetensors").path, contains: "cannot read")
    }

    func testRandomCorruptionNeverCrashes() throws {
        let dir = TestSupport.tempDir()
        let path = dir.appendingPathComponent("ok.safetensors").path
        try SafetensorsWriter.write(path: path, tensors: [("x", Tensor(shape: [4], values: [1, 2, 3, 4])), ("y", Tensor(shape: [2, 2], values: [5, 6, 7, 8]))])
        let good = [UInt8](FileManager.default.contents(atPath: path)!)
        var rng = SplitMix(seed: 7)
        for _ in 0..<500 {
            var bytes = good
            let edits = 1 + Int(rng.next() % 4)
            for _ in 0..<edits { bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            if rng.next() % 3 == 0 { bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count)))) }
            let p = write(bytes)
            if let f = try? SafetensorsFile(path: p) { for n in f.names { _ = try? f.tensor(n) } }
        }
    }

    func testParameterStoreLoadNamesMismatchedCheckpoint() throws {
        let c = BertConfig(vocabSize: 10, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxPositions: 8)
        let store = ParameterStore(specs: EncoderNames.specs(c, pooler: false))
        // Distinct values everywhere, so a tensor loaded under the wrong name (or not at all) shows.
        for i in 0..<store.count { store.values.data[i] = Float(i % 1009) * 0.001 - 0.5 }
        let dir = TestSupport.tempDir()
        let path = dir.appendingPathComponent("m.safetensors").path
        try store.save(to: path, rename: { "bert." + $0 })
        let other = ParameterStore(specs: EncoderNames.specs(c, pooler: false))
        try other.load(from: SafetensorsFile(path: path))  // prefixed names resolve
        XCTAssertEqual(other.values.array, store.values.array, "every tensor lands in its own slot")
        var wider = c
        wider.intermediateSize = 32
        let mismatch = ParameterStore(specs: EncoderNames.specs(wider, pooler: false))
        XCTAssertThrowsError(try mismatch.load(from: SafetensorsFile(path: path))) { e in
            XCTAssertTrue("\(e)".contains("intermediate.dense.weight"), "\(e)")
            XCTAssertTrue("\(e)".contains("does not match its config.json"), "\(e)")
        }
    }
}

/// A tiny deterministic generator for tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
