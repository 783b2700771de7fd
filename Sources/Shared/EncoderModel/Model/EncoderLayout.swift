import Runtime

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

    static let qkv = ["query", "key", "value"]

    /// `names` (a store's slot order) as versions before the packed Q/K/V layout ordered them: each layer's
    /// query, key and value as weight, bias pairs. Optimizer checkpoints written then are remapped by it.
    public static func legacyOrder(_ names: [String]) -> [String] {
        var out: [String] = [], skip = Set<String>()
        for n in names where !skip.contains(n) {
            guard n.hasSuffix(".attention.self.query.weight") else { out.append(n); continue }
            let prefix = String(n.dropLast("query.weight".count))
            let group = qkv.flatMap { [prefix + "\($0).weight", prefix + "\($0).bias"] }
            guard group.allSatisfy(names.contains) else { out.append(n); continue }
            out += group; skip.formUnion(group)
        }
        return out
    }

    /// Every encoder tensor with its shape: Hugging Face's order, except that each layer's query, key and value
    /// weights come first and their biases next, so the flat ParameterStore holds them as one [3H, H] matrix and
    /// one [3H] vector (`LayerOffsets.qkvW`, `.qkvB`) and attention projects Q, K and V in one GEMM. On disk they
    /// stay HF's separate tensors (names are what files, merges and the optimizer checkpoint's remap go by).
    public static func specs(_ c: BertConfig, pooler: Bool) -> [(name: String, shape: [Int])] {
        let h = c.hiddenSize, i = c.intermediateSize
        var s: [(String, [Int])] = [
            (word, [c.vocabSize, h]), (position, [c.maxPositions, h]), (tokenType, [c.typeVocabSize, h]),
            (embLNWeight, [h]), (embLNBias, [h]),
        ]
        for l in 0..<c.numLayers {
            for p in qkv { s.append((layer(l, "attention.self.\(p).weight"), [h, h])) }
            for p in qkv { s.append((layer(l, "attention.self.\(p).bias"), [h])) }
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
    /// Q, K and V weights as one [3H, H] matrix and their biases as one [3H] vector (see `EncoderNames.specs`).
    public let qkvW, qkvB: Int
    public let aoW, aoB, ln1G, ln1B, iW, iB, oW, oB, ln2G, ln2B: Int

    /// Fails when the store does not hold the layer's Q, K and V packed (a store not built from `EncoderNames.specs`).
    init(_ p: ParameterStore, layer l: Int, hidden h: Int) throws {
        func o(_ s: String) -> Int { p.offset(EncoderNames.layer(l, s)) }
        qkvW = o("attention.self.query.weight"); qkvB = o("attention.self.query.bias")
        guard o("attention.self.key.weight") == qkvW + h * h, o("attention.self.value.weight") == qkvW + 2 * h * h,
              o("attention.self.key.bias") == qkvB + h, o("attention.self.value.bias") == qkvB + 2 * h else {
            throw ModelError.incompatible("layer \(l): query, key and value are not adjacent in the parameter store; build it from EncoderNames.specs")
        }
        aoW = o("attention.output.dense.weight"); aoB = o("attention.output.dense.bias")
        ln1G = o("attention.output.LayerNorm.weight"); ln1B = o("attention.output.LayerNorm.bias")
        iW = o("intermediate.dense.weight"); iB = o("intermediate.dense.bias")
        oW = o("output.dense.weight"); oB = o("output.dense.bias")
        ln2G = o("output.LayerNorm.weight"); ln2B = o("output.LayerNorm.bias")
    }
}
