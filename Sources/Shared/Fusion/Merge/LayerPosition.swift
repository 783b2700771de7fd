/// Where a tensor sits in the layer stack, which mergekit uses to interpolate per-layer parameter gradients.
public enum LayerPosition {
    /// Path components that introduce a layer index (`encoder.layer.3.`, `model.layers.3.`, `h.3.`, `blocks.3.`).
    static let layerWords: Set<Substring> = ["layer", "layers", "h", "block", "blocks"]

    /// The layer index in a tensor name, or nil for tensors outside the layer stack (embeddings, heads).
    public static func layerIndex(of name: String) -> Int? {
        let parts = name.split(separator: ".")
        for i in 0..<max(parts.count - 1, 0) where layerWords.contains(parts[i]) {
            if let n = Int(parts[i + 1]), n >= 0 { return n }
        }
        return nil
    }

    /// Number of layers implied by a model's tensor names (highest index + 1).
    public static func layerCount(names: [String]) -> Int {
        names.reduce(0) { max($0, (layerIndex(of: $1) ?? -1) + 1) }
    }

    /// mergekit's gradient position: layer i of L gets i / (L - 1) (1 when there is a single layer);
    /// tensors outside the layer stack get 0, as mergekit plans embeddings and heads with t = 0.
    public static func t(for name: String, layerCount: Int) -> Double {
        guard let i = layerIndex(of: name) else { return 0 }
        return layerCount > 1 ? Double(i) / Double(layerCount - 1) : 1
    }
}
