import EncoderModel
import Foundation

/// Checks, before any tensor is computed, that models can be merged element by element:
/// same architecture fields in config.json, same tensor names, shapes and kinds, and the same vocabulary.
public enum ModelCompatibility {
    /// config.json fields that must agree (absent on either side is not checked).
    static let architectureFields = ["architectures", "model_type", "vocab_size", "hidden_size", "num_hidden_layers",
                                     "num_attention_heads", "intermediate_size", "max_position_embeddings", "type_vocab_size"]

    /// Checks before a search starts that every candidate (and the base model, if given) is a model directory that
    /// can be merged with the first candidate, so a bad path is refused at once, named, not when an arm runs.
    public static func checkSearch(candidates: [String], baseModel: String?) throws {
        let opened = try candidates.map { path in
            do { return try MergeSourceModel(path: path) } catch {
                throw MergeError.badModel(path: path, reason: "not a usable model directory: \(error)")
            }
        }
        guard let reference = opened.first else { return }
        try check(reference: reference, others: Array(opened.dropFirst()))
        if let baseModel {
            let base: MergeSourceModel
            do { base = try MergeSourceModel(path: baseModel) } catch {
                throw MergeError.badModel(path: baseModel, reason: "base model is not a usable model directory: \(error)")
            }
            _ = try baseNames(reference: reference, base: base)
        }
    }

    public static func check(reference ref: MergeSourceModel, others: [MergeSourceModel]) throws {
        let refEntries = Dictionary(uniqueKeysWithValues: ref.weights.entries.map { ($0.name, $0) })
        for other in others where other.path != ref.path {
            func fail(_ reason: String) -> MergeError { .incompatible(model: other.path, reference: ref.path, reason: reason) }
            try compareConfigs(ref, other, skipping: [])
            for e in other.weights.entries where refEntries[e.name] == nil {
                throw fail("tensor '\(e.name)' does not exist in the reference model")
            }
            for e in ref.weights.entries {
                guard let o = other.weights.entry(e.name) else { throw fail("tensor '\(e.name)' is missing") }
                try compareEntries(e, o, ref: ref, other: other)
            }
            try compareVocab(ref, other)
        }
    }

    /// Prefixes a Hugging Face task model puts before the encoder's names (`bert.encoder.layer.0…`), which a bare
    /// encoder checkpoint (`encoder.layer.0…`) lacks.
    static let backbonePrefixes = ["bert.", "roberta.", "xlm_roberta.", "distilbert.", "electra.", "deberta.", "model."]

    /// Maps each tensor of the reference to the base model's tensor it is a task vector against. The base may
    /// name tensors with or without a backbone prefix, may have extra tensors (a pooler, position ids), and may
    /// lack the classification head, which the fine-tunes added; any other missing tensor is an error. Its
    /// `architectures` may differ (BertModel vs BertForSequenceClassification); the other config fields may not.
    static func baseNames(reference ref: MergeSourceModel, base: MergeSourceModel) throws -> [String: String] {
        func fail(_ reason: String) -> MergeError { .incompatible(model: base.path, reference: ref.path, reason: reason) }
        try compareConfigs(ref, base, skipping: ["architectures"])
        try compareVocab(ref, base)
        var out: [String: String] = [:]
        for e in ref.weights.entries {
            var candidates = [e.name] + backbonePrefixes.map { $0 + e.name }
            for p in backbonePrefixes where e.name.hasPrefix(p) { candidates.append(String(e.name.dropFirst(p.count))) }
            guard let name = candidates.first(where: base.weights.contains) else {
                if ParameterSubset.isClassificationHead(e.name) || !isFloat(e.dtype) { continue }
                throw fail("base model has no tensor '\(e.name)' (also tried with and without a backbone prefix); only classification-head tensors may be missing from the base")
            }
            try compareEntries(e, base.weights.entry(name)!, ref: ref, other: base)
            out[e.name] = name
        }
        return out
    }

    static func compareConfigs(_ ref: MergeSourceModel, _ other: MergeSourceModel, skipping: Set<String>) throws {
        guard let a = ref.config, let b = other.config else { return }
        for field in architectureFields where !skipping.contains(field) {
            guard let x = a[field], let y = b[field] else { continue }
            let xs = canonical(x), ys = canonical(y)
            if xs != ys {
                throw MergeError.incompatible(model: other.path, reference: ref.path,
                                              reason: "config.json field '\(field)' is \(ys), the reference has \(xs)")
            }
        }
    }

    static func compareEntries(_ e: SafetensorsEntry, _ o: SafetensorsEntry, ref: MergeSourceModel, other: MergeSourceModel) throws {
        func fail(_ reason: String) -> MergeError { .incompatible(model: other.path, reference: ref.path, reason: reason) }
        if o.shape != e.shape { throw fail("tensor '\(o.name)' has shape \(o.shape), the reference's '\(e.name)' has \(e.shape)") }
        if isFloat(o.dtype) != isFloat(e.dtype) {
            throw fail("tensor '\(o.name)' is \(o.dtype.rawValue), the reference's '\(e.name)' is \(e.dtype.rawValue)")
        }
    }

    static func compareVocab(_ ref: MergeSourceModel, _ other: MergeSourceModel) throws {
        guard let a = FileManager.default.contents(atPath: ref.file("vocab.txt")),
              let b = FileManager.default.contents(atPath: other.file("vocab.txt")), a != b else { return }
        throw MergeError.incompatible(model: other.path, reference: ref.path,
                                      reason: "vocab.txt differs (different tokenizer vocabularies give embedding rows different meanings)")
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
