import EncoderModel
import Foundation
import Runtime
import Tokenizers

/// A MultiTaskGuard being pretrained: one parameter store holding the encoder, the masked-LM head (decoder
/// tied to the word embeddings) and the mean-pooled two-class classifier that `GuardModel` serves. Its saved
/// directory is a `GuardModel` directory with the MLM head kept alongside, so pretraining can continue from it.
public final class MultiTaskGuard: @unchecked Sendable {
    public let config: BertConfig
    public let encoder: BertEncoder
    public let tokenizer: any Tokenizer
    /// Where tokenizer files are copied from when saving.
    public let sourceDirectory: URL
    public var params: ParameterStore { encoder.params }

    /// The head tensors pretraining adds to an encoder.
    public static func headSpecs(_ c: BertConfig) -> [(name: String, shape: [Int])] {
        MaskedLMHead.specs(c) + ClassificationHead.specs(hidden: c.hiddenSize, outputs: 2)
    }

    /// Loads a base encoder, a MultiTaskGuard or a pretraining checkpoint; heads the directory lacks start as
    /// transformers initialises them (seeded).
    public init(directory dir: URL, seed: UInt64) throws {
        let model = try ModelDirectory(dir)
        let specs = Self.headSpecs(model.config)
        encoder = try model.loadEncoder(extra: specs) { HeadNames.initialize(specs, in: $0, seed: seed) }
        config = model.config
        tokenizer = try TokenizerLoader.load(directory: dir)
        sourceDirectory = dir
    }

    public func makeMaskedLMHead() throws -> MaskedLMHead { try MaskedLMHead(config: config, params: params) }
    public func makeClassifier() throws -> ClassificationHead { try ClassificationHead.meanPoolCrossEntropy(config: config, params: params) }

    /// Writes a model directory `GuardModel.load` and `uniguard classify --policy` accept (instruction input,
    /// no default policy), with `extra` keys (e.g. pretraining provenance) in uniguard.json. The directory is
    /// written as a whole; a run's `checkpoints/` inside an existing one is kept.
    public func save(to dir: URL, maxLength: Int, recipe: GuardMetadata.Recipe?, extra: [String: Any] = [:]) throws {
        try AtomicDirectory.write(dir, carryingOver: ["checkpoints"]) { try write(into: $0, maxLength: maxLength, recipe: recipe, extra: extra) }
    }

    /// Writes the model's files into an existing directory (a checkpoint adds its own files beside them).
    public func write(into dir: URL, maxLength: Int, recipe: GuardMetadata.Recipe?, extra: [String: Any] = [:]) throws {
        let meta = GuardMetadata(policy: Self.policyID, instruction: "", inputFormat: .instruction, head: .mean, maxLength: maxLength,
                                 baseModelSHA256: nil, recipe: recipe)
        let guardModel = GuardModel(config: config, encoder: encoder, head: try makeClassifier(), tokenizer: tokenizer,
                                    metadata: meta, source: sourceDirectory)
        try guardModel.write(into: dir)
        if !extra.isEmpty { try meta.save(directory: dir, preserving: extra) }
    }

    /// `uniguard.json`'s policy for a model that serves any policy given at inference.
    public static let policyID = "*"
}
