@testable import EncoderModel
import Foundation
@testable import Fusion
@testable import Runtime
import XCTest

/// The merged model directory, provenance, and refusal of incompatible inputs before any work.
final class MergeOutputTests: XCTestCase {
    var root: URL!

    override func setUp() { root = MergeFixtures.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    func testDirectoryOutputCopiesTopModelFilesAndRecordsProvenance() throws {
        // A top-1 model with tokenizer files and its own uniguard.json.
        let top = root.appendingPathComponent("top")
        try FileManager.default.copyItem(atPath: MergeFixtures.model("m1"), toPath: top.path)
        try "[PAD]\n[UNK]\n".write(to: top.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        try #"{"labels": ["safe", "unsafe"], "threshold": 0.5}"#.write(to: top.appendingPathComponent("uniguard.json"), atomically: true, encoding: .utf8)
        var c = try MergeFixtures.config("ties")
        c.models[0].path = top.path
        c.subset = .attention
        let out = root.appendingPathComponent("out")
        let report = try ModelMerger.merge(c, to: out.path)
        XCTAssertEqual(report.mergedTensors, 20) // 2 layers x (q, k, v, attention.output.dense, attention.output.LayerNorm) x (weight, bias)
        for f in ["model.safetensors", "config.json", "vocab.txt", "uniguard.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), f)
        }
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("uniguard.json"))) as! [String: Any]
        XCTAssertEqual(doc["threshold"] as? Double, 0.5, "the top-1 model's uniguard.json is kept")
        let merge = doc["merge"] as! [String: Any]
        XCTAssertEqual(merge["method"] as? String, "ties")
        XCTAssertEqual(merge["weights"] as? [Double], [0.5, 0.5])
        XCTAssertEqual(merge["densities"] as? [Double], [0.5, 0.5])
        XCTAssertEqual((merge["subset"] as? [String: Any])?["kind"] as? String, "attention")
        let inputs = merge["inputs"] as! [[String: Any]]
        XCTAssertEqual(inputs.count, 3)
        XCTAssertEqual(inputs.first { $0["role"] as? String == "base" }?["path"] as? String, MergeFixtures.model("m0"))
        XCTAssertEqual(inputs.first { $0["role"] as? String == "top" }?["sha256"] as? String,
                       try SHA256.hexDigest(ofFile: top.appendingPathComponent("model.safetensors").path))
        // Outside the subset: bit-identical to the top-1 model.
        let merged = try SafetensorsFile(path: out.appendingPathComponent("model.safetensors").path)
        let topFile = try SafetensorsFile(path: top.appendingPathComponent("model.safetensors").path)
        XCTAssertEqual(try merged.tensor("encoder.layer.0.output.dense.weight").array, try topFile.tensor("encoder.layer.0.output.dense.weight").array)
        XCTAssertNotEqual(try merged.tensor("encoder.layer.0.attention.self.query.weight").array, try topFile.tensor("encoder.layer.0.attention.self.query.weight").array)
    }

    func incompatible(_ tensors: [(String, Tensor)], config: [String: Any] = ["model_type": "bert", "vocab_size": 50]) throws -> MergeError? {
        let a = root.appendingPathComponent("a"), b = root.appendingPathComponent("b")
        try MergeFixtures.writeModel(a, tensors: [("x.weight", Tensor(zeros: [2, 3])), ("y.bias", Tensor(zeros: [3]))])
        try MergeFixtures.writeModel(b, tensors: tensors, config: config)
        let c = MergeConfig(method: .linear, models: [.init(path: a.path, parameters: ["weight": .number(1)]),
                                                      .init(path: b.path, parameters: ["weight": .number(1)])])
        let out = root.appendingPathComponent("out")
        do { try ModelMerger.merge(c, to: out.path) } catch let e as MergeError {
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing written before the check")
            return e
        }
        return nil
    }

    func testIncompatibleInputsFailBeforeAnyWorkNamingModelAndTensor() throws {
        let shape = try incompatible([("x.weight", Tensor(zeros: [3, 2])), ("y.bias", Tensor(zeros: [3]))])
        XCTAssertTrue(shape?.description.contains("'x.weight' has shape [3, 2]") ?? false, "\(String(describing: shape))")
        XCTAssertTrue(shape?.description.contains("/b'") ?? false)
        let missing = try incompatible([("x.weight", Tensor(zeros: [2, 3]))])
        XCTAssertTrue(missing?.description.contains("'y.bias' is missing") ?? false, "\(String(describing: missing))")
        let extra = try incompatible([("x.weight", Tensor(zeros: [2, 3])), ("y.bias", Tensor(zeros: [3])), ("z", Tensor(zeros: [1]))])
        XCTAssertTrue(extra?.description.contains("'z' does not exist") ?? false, "\(String(describing: extra))")
        let vocab = try incompatible([("x.weight", Tensor(zeros: [2, 3])), ("y.bias", Tensor(zeros: [3]))], config: ["model_type": "bert", "vocab_size": 51])
        XCTAssertTrue(vocab?.description.contains("vocab_size") ?? false, "\(String(describing: vocab))")
        let arch = try incompatible([("x.weight", Tensor(zeros: [2, 3])), ("y.bias", Tensor(zeros: [3]))], config: ["model_type": "roberta", "vocab_size": 50])
        XCTAssertTrue(arch?.description.contains("model_type") ?? false, "\(String(describing: arch))")
    }

    func testMissingModelDirectoryIsAClearError() {
        let c = MergeConfig(method: .linear, models: [.init(path: "/nonexistent/model", parameters: ["weight": .number(1)])])
        XCTAssertThrowsError(try ModelMerger.merge(c, into: InMemoryTensorSink())) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/model"), "\(e)")
        }
    }

    func testRefusesToWriteIntoAnInputDirectory() throws {
        let a = root.appendingPathComponent("a")
        try FileManager.default.copyItem(atPath: MergeFixtures.model("m1"), toPath: a.path)
        let c = MergeConfig(method: .linear, models: [.init(path: a.path, parameters: ["weight": .number(1)])])
        XCTAssertThrowsError(try ModelMerger.merge(c, to: a.path)) { e in XCTAssertTrue("\(e)".contains("input model"), "\(e)") }
    }

    func testMergeCommandConfigFromFileResolvesRelativePaths() throws {
        let yml = root.appendingPathComponent("merge.yml")
        for d in ["m0", "m1", "m2"] { try FileManager.default.copyItem(atPath: MergeFixtures.model(d), toPath: root.appendingPathComponent(d).path) }
        try String(contentsOf: MergeFixtures.dir.appendingPathComponent("expected_linear.yml"), encoding: .utf8)
            .replacingOccurrences(of: "M1", with: "m1").replacingOccurrences(of: "M2", with: "m2")
            .write(to: yml, atomically: true, encoding: .utf8)
        let c = try MergeConfig.load(path: yml.path)
        XCTAssertEqual(c.models.map(\.path), [root.appendingPathComponent("m1").path, root.appendingPathComponent("m2").path])
        try ModelMerger.merge(c, to: root.appendingPathComponent("out").path)
        let ours = try SafetensorsFile(path: root.appendingPathComponent("out/model.safetensors").path)
        let expected = try MergeFixtures.expected("linear")
        for n in expected.names { XCTAssertLessThanOrEqual(MergeFixtures.maxDiff(try ours.tensor(n), try expected.tensor(n)), 1e-6) }
    }
}
