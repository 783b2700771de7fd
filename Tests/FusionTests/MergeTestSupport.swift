@testable import EncoderModel
import Foundation
@testable import Fusion
import XCTest

/// Locates the mergekit fixtures (Tests/Fixtures/merge) and builds configs over them.
enum MergeFixtures {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/merge")

    static func model(_ name: String) -> String { dir.appendingPathComponent(name.lowercased()).path }

    /// The fixture's YAML with its placeholder model names (M0, M1, M2) mapped to the fixture directories.
    static func config(_ method: String) throws -> MergeConfig {
        let path = dir.appendingPathComponent("expected_\(method).yml").path
        var c = try MergeConfig.load(path: path)
        c.models = c.models.map { MergeConfig.Input(path: model($0.path), parameters: $0.parameters) }
        c.baseModel = c.baseModel.map(model)
        c.topModel = c.topModel.map(model)
        return c
    }

    static func expected(_ method: String) throws -> SafetensorsFile {
        try SafetensorsFile(path: dir.appendingPathComponent("expected_\(method).safetensors").path)
    }

    /// Largest absolute difference between two tensors of the same shape.
    static func maxDiff(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.count == b.count)
        var m: Float = 0
        for i in 0..<a.count { m = max(m, abs(a.data[i] - b.data[i])) }
        return m
    }

    static func tempDir() -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("uniguard-merge-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    /// A tiny model directory with the given tensors and a config.json.
    static func writeModel(_ dir: URL, tensors: [(String, Tensor)], config: [String: Any] = ["model_type": "bert", "vocab_size": 50]) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try SafetensorsWriter.write(path: dir.appendingPathComponent("model.safetensors").path, tensors: tensors)
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
    }
}
