import Foundation

/// Checks, before any tensor is computed, that models can be merged element by element:
/// same architecture fields in config.json, same tensor names, shapes and kinds, and the same vocabulary.
public enum ModelCompatibility {
    /// config.json fields that must agree (absent on either side is not checked).
    static let architectureFields = ["architectures", "model_type", "vocab_size", "hidden_size", "num_hidden_layers",
                                     "num_attention_heads", "intermediate_size", "max_position_embeddings", "type_vocab_size"]

    public static func check(reference ref: MergeSourceModel, others: [MergeSourceModel]) throws {
        let refEntries = Dictionary(uniqueKeysWithValues: ref.weights.entries.map { ($0.name, $0) })
        let refVocab = FileManager.default.contents(atPath: ref.file("vocab.txt"))
        for other in others where other.path != ref.path {
            func fail(_ reason: String) -> MergeError { .incompatible(model: other.path, reference: ref.path, reason: reason) }
            if let a = ref.config, let b = other.config {
                for field in architectureFields {
                    guard let x = a[field], let y = b[field] else { continue }
                    let xs = canonical(x), ys = canonical(y)
                    if xs != ys { throw fail("config.json field '\(field)' is \(ys), the reference has \(xs)") }
                }
            }
            for e in other.weights.entries where refEntries[e.name] == nil {
                throw fail("tensor '\(e.name)' does not exist in the reference model")
            }
            let otherNames = Set(other.weights.names)
            for e in ref.weights.entries {
                guard otherNames.contains(e.name) else { throw fail("tensor '\(e.name)' is missing") }
                let o = other.weights.entry(e.name)!
                if o.shape != e.shape { throw fail("tensor '\(e.name)' has shape \(o.shape), the reference has \(e.shape)") }
                if isFloat(o.dtype) != isFloat(e.dtype) {
                    throw fail("tensor '\(e.name)' is \(o.dtype.rawValue), the reference is \(e.dtype.rawValue)")
                }
            }
            if let refVocab, let vocab = FileManager.default.contents(atPath: other.file("vocab.txt")), vocab != refVocab {
                throw fail("vocab.txt differs (different tokenizer vocabularies give embedding rows different meanings)")
            }
        }
    }

    static func isFloat(_ d: SafetensorsDType) -> Bool { [.F32, .F16, .BF16, .F64].contains(d) }

    /// A stable text form of a JSON value for comparison (numbers as numbers, arrays in order).
    static func canonical(_ v: Any) -> String {
        if let data = try? JSONSerialization.data(withJSONObject: [v], options: [.sortedKeys]) {
            return String(decoding: data, as: UTF8.self).dropFirst().dropLast().description
        }
        return "\(v)"
    }
}
