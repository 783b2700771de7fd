import EncoderModel
import Foundation
import GuardData
import Runtime
import Tokenizers

/// A guardrail classifier: encoder + classification head + tokenizer + `uniguard.json`; scores P(unsafe).
/// Holds activation buffers, so use one instance per thread.
public final class GuardModel: @unchecked Sendable {
    public let config: BertConfig
    public let encoder: BertEncoder
    public let head: ClassificationHead
    public let tokenizer: any Tokenizer
    public var metadata: GuardMetadata
    /// Where tokenizer and auxiliary files are copied from when saving.
    public let sourceDirectory: URL
    private let workspace: EncoderWorkspace

    public var params: ParameterStore { encoder.params }

    init(config: BertConfig, encoder: BertEncoder, head: ClassificationHead, tokenizer: any Tokenizer, metadata: GuardMetadata, source: URL) {
        self.config = config; self.encoder = encoder; self.head = head; self.tokenizer = tokenizer
        self.metadata = metadata; sourceDirectory = source
        workspace = EncoderWorkspace(config: config, training: false)
    }

    static func pooling(_ k: GuardMetadata.HeadKind) -> ClassificationHead.PoolingKind { k == .cls ? .clsPooler : .mean }

    /// A new classifier on a base encoder directory; the head starts as transformers initialises it.
    public static func fromBase(_ dir: URL, metadata: GuardMetadata, seed: UInt64) throws -> GuardModel {
        let model = try ModelDirectory(dir)
        let specs = ClassificationHead.specs(hidden: model.config.hiddenSize, outputs: 2)
        let encoder = try model.loadEncoder(extra: specs) { HeadNames.initialize(specs, in: $0, seed: seed) }
        if metadata.head == .cls && !encoder.hasPooler {
            throw ModelError.incompatible("\(dir.path): the base model has no pooler weights; use the mean-pooling head")
        }
        let head = try ClassificationHead(config: model.config, params: encoder.params, pooling: pooling(metadata.head), objective: .crossEntropy)
        return GuardModel(config: model.config, encoder: encoder, head: head, tokenizer: try TokenizerLoader.load(directory: dir),
                          metadata: metadata, source: dir)
    }

    /// Loads a trained (or merged) classifier directory.
    public static func load(_ dir: URL) throws -> GuardModel {
        let meta = try GuardMetadata.load(directory: dir)
        let model = try ModelDirectory(dir)
        let specs = ClassificationHead.specs(hidden: model.config.hiddenSize, outputs: 2)
        let file = try model.weights()
        guard ParameterStore.resolve(HeadNames.classifierWeight, in: file) != nil else {
            throw SafetensorsError.missingTensor(path: file.path, tensor: HeadNames.classifierWeight)
        }
        let encoder = try model.loadEncoder(extra: specs)
        try WeightCheck.requireFinite(encoder.params, file.path)
        let head = try ClassificationHead(config: model.config, params: encoder.params, pooling: pooling(meta.head), objective: .crossEntropy)
        return GuardModel(config: model.config, encoder: encoder, head: head, tokenizer: try TokenizerLoader.load(directory: dir),
                          metadata: meta, source: dir)
    }

    /// The model input for a prompt under the model's input format (`policyText` overrides the stored instruction).
    /// An instruction too long for `maxLength` is shortened, never the prompt (see `InstructionFitting`).
    public func input(for prompt: String, policyText: String? = nil) -> String {
        switch metadata.inputFormat {
        case .prompt: return prompt
        case .instruction:
            let fitted = InstructionFitting(tokenizer: tokenizer, maxLength: metadata.maxLength)
                .render(policyText: policyText ?? metadata.instruction, prompt: prompt)
            if fitted.shortened, !warnedAboutInstruction.withLock({ let was = $0; $0 = true; return was }) {
                onInstructionShortened?("the policy instruction is longer than max length \(metadata.maxLength) tokens allows beside the prompt; its end was cut so the prompt is read whole")
            }
            return fitted.text
        }
    }

    /// Called once, the first time an instruction is cut to fit (commands print it as a warning).
    public var onInstructionShortened: (@Sendable (String) -> Void)?
    private let warnedAboutInstruction = Guarded(false)
    /// `anchorLevel` per instruction text, computed once each.
    let anchorLevels = Guarded<[String: (mean: Float, sd: Float)]>([:])

    /// Whether inputs need a policy from the caller: an instruction-format model without a stored instruction
    /// (a MultiTaskGuard serves whatever policy it is given).
    public var requiresPolicy: Bool { metadata.inputFormat == .instruction && metadata.instruction.isEmpty }

    /// P(unsafe) for each already-formatted input; similar lengths are batched together.
    public func scores(inputs: [String], batchSize: Int = 32) throws -> [Float] {
        var out = [Float](repeating: 0, count: inputs.count)
        let encs = inputs.map { tokenizer.encode($0, maxLength: metadata.maxLength) }
        try encoder.forwardSortedByLength(encs, pad: tokenizer.special.pad, batchSize: batchSize, workspace: workspace) { rows, batch, hidden in
            let logits = head.computeLogits(hidden: hidden, batch: batch)
            for (i, r) in rows.enumerated() { out[r] = Self.unsafeProbability(logits[2 * i], logits[2 * i + 1]) }
        }
        // A NaN score would print as `nan` (not JSON) and compare as safe: never let one out.
        if let bad = out.firstIndex(where: { !$0.isFinite }) { throw NonFiniteScore(index: bad) }
        return out
    }

    /// Confusion counts of this model's verdicts on prompts with their truth (unsafe = positive).
    public func confusionCounts(_ items: [(prompt: String, unsafe: Bool)]) throws -> ConfusionCounts {
        let scores = try self.scores(inputs: items.map { input(for: $0.prompt) })
        return ConfusionCounts(scores: scores, unsafe: items.map(\.unsafe), threshold: metadata.threshold)
    }

    /// softmax(logits)[unsafe] computed stably as a sigmoid of the logit difference.
    @inline(__always)
    public static func unsafeProbability(_ safe: Float, _ unsafe: Float) -> Float { 1 / (1 + expf(safe - unsafe)) }

    /// Writes a complete model directory as a whole (`AtomicDirectory`): an existing one is replaced only once
    /// the new one is complete.
    public func save(to dir: URL) throws {
        try AtomicDirectory.write(dir) { try write(into: $0) }
    }

    /// `config.json`'s architecture: transformers' class for the [CLS] pooler head, which it loads and scores as
    /// we do; a name of our own for mean pooling, which BertForSequenceClassification would score differently.
    /// RoBERTa's own classifier (RobertaForSequenceClassification) names its tensors differently, so a RoBERTa-family
    /// pooler head gets a name of our own too rather than a class that would load it half-initialised.
    public static func architecture(_ head: GuardMetadata.HeadKind, config: BertConfig? = nil) -> String {
        guard head == .cls else { return "UniGuardMeanPoolingClassifier" }
        return config?.paddingOffsetPositions == true ? "UniGuardPoolerClassifier" : "BertForSequenceClassification"
    }

    /// Writes the model's files into an existing directory: weights under transformers' names (`roberta.` for the
    /// RoBERTa family, `bert.` otherwise), config.json, the tokenizer files of the source directory, and uniguard.json.
    public func write(into dir: URL) throws {
        let fm = FileManager.default
        // A diverged run must not publish a model that scores NaN for everything.
        try WeightCheck.requireFinite(params, "not writing the model")
        try params.save(to: dir.appendingPathComponent("model.safetensors").path, metadata: ["format": "pt"],
                        rename: { [meanHead = metadata.head == .mean] in HeadNames.transformers($0, prefix: config.weightPrefix, meanPoolingHead: meanHead) })
        let cfg = config.jsonObject(architecture: Self.architecture(metadata.head, config: config), extra: [
            "id2label": ["0": "safe", "1": "unsafe"], "label2id": ["safe": 0, "unsafe": 1], "num_labels": 2,
        ])
        try JSONSerialization.data(withJSONObject: cfg, options: [.prettyPrinted, .sortedKeys])
            .write(to: dir.appendingPathComponent("config.json"), options: .atomic)
        for name in ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] {
            let src = sourceDirectory.appendingPathComponent(name), dst = dir.appendingPathComponent(name)
            guard fm.fileExists(atPath: src.path), src.standardizedFileURL != dst.standardizedFileURL else { continue }
            try? fm.removeItem(at: dst)
            try fm.copyItem(at: src, to: dst)
        }
        try metadata.save(directory: dir)
    }
}

extension GuardModel {
    /// A model with this one's config, head, tokenizer and metadata but parameters taken from `tensors`
    /// (keyed by checkpoint names, with or without `bert.`), e.g. a merge computed in memory.
    public func withParameters(_ tensors: [String: Tensor], metadata: GuardMetadata? = nil) throws -> GuardModel {
        let store = ParameterStore(specs: params.slots.map { ($0.name, $0.shape) })
        for s in store.slots {
            guard let t = ParameterStore.encoderPrefixes.lazy.compactMap({ tensors[$0 + s.name] }).first else {
                throw ModelError.incompatible("merged parameters lack tensor '\(s.name)'")
            }
            guard t.count == s.count else { throw ModelError.incompatible("merged tensor '\(s.name)' has \(t.count) values, expected \(s.count)") }
            (store.values.data + s.offset).update(from: t.data, count: s.count)
        }
        let encoder = try BertEncoder(config: config, params: store)
        let head = try ClassificationHead(config: config, params: store, pooling: self.head.pooling, objective: .crossEntropy)
        return GuardModel(config: config, encoder: encoder, head: head, tokenizer: tokenizer, metadata: metadata ?? self.metadata, source: sourceDirectory)
    }
}
