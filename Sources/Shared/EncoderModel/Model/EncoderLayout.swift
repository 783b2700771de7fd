/// Canonical tensor names of a BERT encoder (Hugging Face names without the `bert.` prefix).
public enum EncoderNames {
    public static let word = "embeddings.word_embeddings.weight"
    public static let position = "embeddings.position_embeddings.weight"
    public static let tokenType = "embeddings.token_type_embeddings.weight"
    public static let embLNWeight = "embeddings.LayerNorm.weight"
    public static let embLNBias = "embeddings.LayerNorm.bias"
    public static let poolerWeight = "pooler.dense.weight"
    public static let poolerBias = "pooler.dense.bias"

    public static func layer(_ l: Int, _ suffix: String) -> String { "encoder.layer.\(l).\(suffix)" }

    /// Every encoder tensor with its shape, in Hugging Face order.
    public static func specs(_ c: BertConfig, pooler: Bool) -> [(name: String, shape: [Int])] {
        let h = c.hiddenSize, i = c.intermediateSize
        var s: [(String, [Int])] = [
            (word, [c.vocabSize, h]), (position, [c.maxPositions, h]), (tokenType, [c.typeVocabSize, h]),
            (embLNWeight, [h]), (embLNBias, [h]),
        ]
        for l in 0..<c.numLayers {
            for p in ["query", "key", "value"] {
                s.append((layer(l, "attention.self.\(p).weight"), [h, h]))
                s.append((layer(l, "attention.self.\(p).bias"), [h]))
            }
            s += [
                (layer(l, "attention.output.dense.weight"), [h, h]), (layer(l, "attention.output.dense.bias"), [h]),
                (layer(l, "attention.output.LayerNorm.weight"), [h]), (layer(l, "attention.output.LayerNorm.bias"), [h]),
                (layer(l, "intermediate.dense.weight"), [i, h]), (layer(l, "intermediate.dense.bias"), [i]),
                (layer(l, "output.dense.weight"), [h, i]), (layer(l, "output.dense.bias"), [h]),
                (layer(l, "output.LayerNorm.weight"), [h]), (layer(l, "output.LayerNorm.bias"), [h]),
            ]
        }
        if pooler { s += [(poolerWeight, [h, h]), (poolerBias, [h])] }
        return s
    }
}

/// Where one transformer layer's parameters sit in a ParameterStore; the same offsets index its gradients.
public struct LayerOffsets: Sendable {
    public let qW, qB, kW, kB, vW, vB, aoW, aoB, ln1G, ln1B, iW, iB, oW, oB, ln2G, ln2B: Int

    init(_ p: ParameterStore, layer l: Int) {
        func o(_ s: String) -> Int { p.offset(EncoderNames.layer(l, s)) }
        qW = o("attention.self.query.weight"); qB = o("attention.self.query.bias")
        kW = o("attention.self.key.weight"); kB = o("attention.self.key.bias")
        vW = o("attention.self.value.weight"); vB = o("attention.self.value.bias")
        aoW = o("attention.output.dense.weight"); aoB = o("attention.output.dense.bias")
        ln1G = o("attention.output.LayerNorm.weight"); ln1B = o("attention.output.LayerNorm.bias")
        iW = o("intermediate.dense.weight"); iB = o("intermediate.dense.bias")
        oW = o("output.dense.weight"); oB = o("output.dense.bias")
        ln2G = o("output.LayerNorm.weight"); ln2B = o("output.LayerNorm.bias")
    }
}
