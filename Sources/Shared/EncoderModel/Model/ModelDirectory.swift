import Foundation
import Runtime

/// A Hugging Face style model directory: config.json, model.safetensors, vocab.txt or tokenizer.json, uniguard.json.
public struct ModelDirectory: Sendable {
    public let url: URL
    public let config: BertConfig

    public var weightsURL: URL { url.appendingPathComponent("model.safetensors") }
    public var configURL: URL { url.appendingPathComponent("config.json") }

    public init(_ url: URL) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else {
            throw ModelError.missingFile(path: url.path, hint: "expected a model directory (config.json + model.safetensors)")
        }
        self.url = url
        config = try BertConfig.load(from: url.appendingPathComponent("config.json"))
    }

    /// The mapped weights file.
    public func weights() throws -> SafetensorsFile {
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw ModelError.missingFile(path: weightsURL.path, hint: "the model directory has no model.safetensors")
        }
        return try SafetensorsFile(path: weightsURL.path)
    }

    /// Loads the encoder (and its pooler, when the checkpoint has one) into a fresh parameter store,
    /// plus any `extra` head tensors (loaded when present, left as initialised by `initExtra` otherwise).
    public func loadEncoder(extra: [(name: String, shape: [Int])] = [],
                            initExtra: ((ParameterStore) -> Void)? = nil) throws -> BertEncoder {
        let file = try weights()
        let pooler = ParameterStore.resolve(EncoderNames.poolerWeight, in: file) != nil
        let store = ParameterStore(specs: EncoderNames.specs(config, pooler: pooler) + extra)
        initExtra?(store)
        try store.load(from: file, optional: Set(extra.map(\.name)))
        return try BertEncoder(config: config, params: store)
    }
}
