import EncoderModel
import Foundation

/// One input model directory of a merge (Hugging Face layout, any architecture): memory-mapped weights plus its config.json.
public final class MergeSourceModel: @unchecked Sendable {
    public let path: String
    public let weights: SafetensorsFile
    /// config.json as parsed JSON, nil when the directory has none.
    public let config: [String: Any]?

    /// Tokenizer files copied from the top-1 model into a merged model (WordPiece, byte-level BPE, Unigram).
    public static let tokenizerFiles = ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                        "vocab.json", "merges.txt", "sentencepiece.bpe.model", "added_tokens.json"]

    public var weightsPath: String { (path as NSString).appendingPathComponent("model.safetensors") }
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    public init(path: String) throws {
        self.path = path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw MergeError.badModel(path: path, reason: "directory not found; relative paths resolve against the working directory, then against the config file's directory")
        }
        guard isDir.boolValue else {
            throw MergeError.badModel(path: path, reason: "is a file; give the model directory (with config.json and model.safetensors)")
        }
        let weightsPath = (path as NSString).appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            let fm = FileManager.default
            let reason: String
            if fm.fileExists(atPath: (path as NSString).appendingPathComponent("model.safetensors.index.json")) {
                reason = "sharded checkpoints are not supported; save the model as a single model.safetensors"
            } else if fm.fileExists(atPath: (path as NSString).appendingPathComponent("pytorch_model.bin")) {
                reason = "has only pytorch_model.bin; convert it to model.safetensors (save_pretrained(safe_serialization=True))"
            } else {
                reason = "no model.safetensors in this directory"
            }
            throw MergeError.badModel(path: path, reason: reason)
        }
        weights = try SafetensorsFile(path: weightsPath)
        let configPath = (path as NSString).appendingPathComponent("config.json")
        if let data = FileManager.default.contents(atPath: configPath) {
            guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw MergeError.badModel(path: path, reason: "config.json is not a JSON object")
            }
            config = obj
        } else {
            config = nil
        }
    }
}
