/// Which tensors a merge combines (the paper's "merge types"); every other tensor is copied from the top-1 model.
///
/// - `all`: every tensor, classification head included (mergekit cannot merge heads; we can).
/// - `attention`: the attention blocks: query/key/value and the whole `attention.output` (dense + LayerNorm)
///   for BERT-family names, `self_attn.*` / `attn.*` for decoder-style names.
/// - `attention_output`: only the attention output projection (`attention.output.dense`, `self_attn.o_proj`, …).
/// - `all_but_classifier`: everything except the head. The head is `classifier.*`, `pre_classifier.*`, `score.*`,
///   `qa_outputs.*` **and `pooler.*`**: in BertForSequenceClassification the pooler exists only to feed the
///   classifier, so the paper's "classifier of the top-1 model" keeps the whole decision path of that model.
///
/// `include` narrows the set further (a tensor must match one pattern, mergekit `filter:` style: substring or
/// `/regex/`), `exclude` removes matches.
public struct ParameterSubset: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The named parameter groups from the paper.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case all
        case attention
        case attentionOutput = "attention_output"
        case allButClassifier = "all_but_classifier"
    }

    public var kind: Kind
    public var include: [NamePattern]
    public var exclude: [NamePattern]

    public init(_ kind: Kind, include: [NamePattern] = [], exclude: [NamePattern] = []) {
        self.kind = kind
        self.include = include
        self.exclude = exclude
    }

    public static let all = ParameterSubset(.all)
    public static let attention = ParameterSubset(.attention)
    public static let attentionOutput = ParameterSubset(.attentionOutput)
    public static let allButClassifier = ParameterSubset(.allButClassifier)

    /// True when `tensor` is merged; false means it is copied from the top-1 model.
    public func contains(_ tensor: String) -> Bool {
        guard Self.kindContains(kind, tensor) else { return false }
        if !include.isEmpty, !include.contains(where: { $0.matches(tensor) }) { return false }
        return !exclude.contains(where: { $0.matches(tensor) })
    }

    /// A stable label for logs, history and plots: `attention`, `all[+self_attn][-/layer\.0\./]`.
    public var description: String {
        var s = kind.rawValue
        if !include.isEmpty { s += "[+" + include.map(\.description).joined(separator: ",") + "]" }
        if !exclude.isEmpty { s += "[-" + exclude.map(\.description).joined(separator: ",") + "]" }
        return s
    }

    static let attentionWords: Set<Substring> = ["attention", "self_attn", "attn", "self_attention"]
    static let attentionOutputMarkers = ["attention.output.dense.", "attention.out_lin.", "self_attn.o_proj.",
                                         "attn.out_proj.", "attn.c_proj.", "self_attention.dense."]
    static let headWords: Set<Substring> = ["classifier", "pre_classifier", "pooler", "score", "qa_outputs"]

    static func kindContains(_ kind: Kind, _ tensor: String) -> Bool {
        switch kind {
        case .all: return true
        case .attention: return tensor.split(separator: ".").contains(where: attentionWords.contains)
        case .attentionOutput: return attentionOutputMarkers.contains(where: tensor.contains)
        case .allButClassifier: return !isClassificationHead(tensor)
        }
    }

    /// A tensor of the classification head (see the type's doc for why the pooler counts as head).
    public static func isClassificationHead(_ tensor: String) -> Bool {
        // Only outside the layer stack, so a layer-internal tensor that happens to be called "score" stays encoder.
        LayerPosition.layerIndex(of: tensor) == nil && tensor.split(separator: ".").contains(where: headWords.contains)
    }
}
