import Foundation
import Tokenizers

/// Sentence embeddings as sentence-transformers computes them: encoder, masked mean pooling, L2 normalisation.
public final class SentenceEmbedder: @unchecked Sendable {
    public let tokenizer: any Tokenizer
    public let encoder: BertEncoder
    public let maxLength: Int
    private let workspace: EncoderWorkspace

    public var dimension: Int { encoder.config.hiddenSize }

    /// Loads a model directory; `maxLength` defaults to the directory's sentence-transformers setting (else 256).
    public init(directory: URL, maxLength: Int? = nil) throws {
        let model = try ModelDirectory(directory)
        tokenizer = try TokenizerLoader.load(directory: directory)
        encoder = try model.loadEncoder()
        self.maxLength = min(maxLength ?? Self.configuredMaxLength(directory) ?? 256, model.config.maxSequenceLength)
        workspace = EncoderWorkspace(config: model.config, training: false)
    }

    init(tokenizer: any Tokenizer, encoder: BertEncoder, maxLength: Int) {
        self.tokenizer = tokenizer; self.encoder = encoder; self.maxLength = maxLength
        workspace = EncoderWorkspace(config: encoder.config, training: false)
    }

    static func configuredMaxLength(_ dir: URL) -> Int? {
        guard let d = FileManager.default.contents(atPath: dir.appendingPathComponent("sentence_bert_config.json").path),
              let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else { return nil }
        return o["max_seq_length"] as? Int
    }

    /// Embeds `texts` into rows of a [n, H] tensor; similar lengths are batched together to limit padding.
    public func embed(_ texts: [String], batchSize: Int = 32) throws -> Tensor {
        let h = dimension
        let out = Tensor(zeros: [texts.count, h])
        let encs = texts.map { tokenizer.encode($0, maxLength: maxLength) }
        try encoder.forwardSortedByLength(encs, pad: tokenizer.special.pad, batchSize: batchSize, workspace: workspace) { rows, batch, hidden in
            let pooled = Tensor(zeros: [rows.count, h])
            Pooling.mean(hidden, mask: batch.mask, batch: rows.count, seqLen: batch.seqLen, hidden: h, into: pooled.data)
            Pooling.l2Normalize(pooled.data, rows: rows.count, cols: h)
            for (i, r) in rows.enumerated() { (out.data + r * h).update(from: pooled.data + i * h, count: h) }
        }
        return out
    }
}
