import Foundation
import Runtime

/// The subset of a Hugging Face BERT-family `config.json` the encoder needs.
public struct BertConfig: Codable, Sendable, Equatable {
    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    public var hiddenAct: String
    public var padTokenId: Int
    public var hiddenDropout: Float
    public var attentionDropout: Float

    public var headDim: Int { hiddenSize / numHeads }

    /// RoBERTa-family encoders (RoBERTa, XLM-R / multilingual E5, CamemBERT) share BERT's layers but number
    /// positions from `pad_token_id + 1` and keep their weights under `roberta.` (see `PositionIds`).
    public static let robertaFamily: Set<String> = ["roberta", "xlm-roberta", "camembert"]

    /// Whether position ids follow RoBERTa's padding-offset scheme instead of BERT's 0..<T.
    public var paddingOffsetPositions: Bool { Self.robertaFamily.contains(modelType) }

    /// The prefix transformers' task classes (`*ForSequenceClassification`, `*ForMaskedLM`) put before the
    /// encoder's tensor names: their `base_model_prefix`.
    public var weightPrefix: String { paddingOffsetPositions ? "roberta." : "bert." }

    /// The longest input the position table allows: all of it for BERT; for RoBERTa-family models the rows up
    /// to `pad_token_id` are never used by real tokens (514 positions hold 512 tokens).
    public var maxSequenceLength: Int { paddingOffsetPositions ? max(0, maxPositions - padTokenId - 1) : maxPositions }

    public init(modelType: String = "bert", vocabSize: Int, hiddenSize: Int, numLayers: Int, numHeads: Int,
                intermediateSize: Int, maxPositions: Int = 512, typeVocabSize: Int = 2, layerNormEps: Float = 1e-12,
                hiddenAct: String = "gelu", padTokenId: Int = 0, hiddenDropout: Float = 0.1, attentionDropout: Float = 0.1) {
        self.modelType = modelType; self.vocabSize = vocabSize; self.hiddenSize = hiddenSize; self.numLayers = numLayers
        self.numHeads = numHeads; self.intermediateSize = intermediateSize; self.maxPositions = maxPositions
        self.typeVocabSize = typeVocabSize; self.layerNormEps = layerNormEps; self.hiddenAct = hiddenAct
        self.padTokenId = padTokenId; self.hiddenDropout = hiddenDropout; self.attentionDropout = attentionDropout
    }

    /// Reads `config.json`, naming the file and field on any problem.
    public static func load(from url: URL) throws -> BertConfig {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.missingFile(path: path, hint: "a model directory needs config.json (Hugging Face format)")
        }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelError.badConfig(path: path, field: "-", reason: "not a JSON object")
        }
        func int(_ k: String, _ def: Int? = nil) throws -> Int {
            if let v = obj[k] as? Int { return v }
            if let d = def { return d }
            throw ModelError.badConfig(path: path, field: k, reason: obj[k] == nil ? "missing" : "not an integer")
        }
        func float(_ k: String, _ def: Float) throws -> Float {
            guard let v = obj[k] else { return def }
            guard let n = v as? NSNumber else { throw ModelError.badConfig(path: path, field: k, reason: "not a number") }
            return n.floatValue
        }
        let type = (obj["model_type"] as? String) ?? "bert"
        guard ["bert", "roberta", "xlm-roberta", "distilbert", "electra"].contains(type) || type.hasSuffix("bert") else {
            throw ModelError.badConfig(path: path, field: "model_type", reason: "'\(type)' is not a BERT-family encoder")
        }
        let act = (obj["hidden_act"] as? String) ?? "gelu"
        guard act == "gelu" else {
            throw ModelError.badConfig(path: path, field: "hidden_act", reason: "'\(act)' is not supported (UniGuard implements exact erf GELU)")
        }
        if let pos = obj["position_embedding_type"] as? String, pos != "absolute" {
            throw ModelError.badConfig(path: path, field: "position_embedding_type", reason: "'\(pos)' is not supported (absolute only)")
        }
        let c = BertConfig(
            modelType: type, vocabSize: try int("vocab_size"), hiddenSize: try int("hidden_size"),
            numLayers: try int("num_hidden_layers"), numHeads: try int("num_attention_heads"),
            intermediateSize: try int("intermediate_size"), maxPositions: try int("max_position_embeddings", 512),
            typeVocabSize: try int("type_vocab_size", 2), layerNormEps: try float("layer_norm_eps", 1e-12),
            hiddenAct: act, padTokenId: try int("pad_token_id", 0),
            hiddenDropout: try float("hidden_dropout_prob", 0.1), attentionDropout: try float("attention_probs_dropout_prob", 0.1))
        if c.paddingOffsetPositions {
            guard c.padTokenId >= 0, c.padTokenId + 1 < c.maxPositions else {
                throw ModelError.badConfig(path: path, field: "pad_token_id", reason: "\(c.padTokenId) leaves no position for tokens: \(type) numbers positions from pad_token_id + 1 and max_position_embeddings is \(c.maxPositions)")
            }
        }
        guard c.hiddenSize > 0, c.numHeads > 0, c.hiddenSize % c.numHeads == 0 else {
            throw ModelError.badConfig(path: path, field: "num_attention_heads", reason: "hidden_size \(c.hiddenSize) is not divisible by \(c.numHeads) heads")
        }
        return c
    }

    /// The HF `config.json` text for this config (what we write next to our checkpoints).
    public func jsonObject(architecture: String = "BertModel", extra: [String: Any] = [:]) -> [String: Any] {
        var o: [String: Any] = [
            "architectures": [architecture], "model_type": modelType, "vocab_size": vocabSize, "hidden_size": hiddenSize,
            "num_hidden_layers": numLayers, "num_attention_heads": numHeads, "intermediate_size": intermediateSize,
            "max_position_embeddings": maxPositions, "type_vocab_size": typeVocabSize, "layer_norm_eps": Double(layerNormEps),
            "hidden_act": hiddenAct, "pad_token_id": padTokenId, "hidden_dropout_prob": Double(hiddenDropout),
            "attention_probs_dropout_prob": Double(attentionDropout), "position_embedding_type": "absolute",
            "initializer_range": 0.02,
        ]
        for (k, v) in extra { o[k] = v }
        return o
    }
}
