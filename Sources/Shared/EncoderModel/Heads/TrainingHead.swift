import Runtime
import Tokenizers
/// A training head on the encoder's last hidden state: forward to logits and loss, backward into the shared
/// gradient buffer and into dL/d(hidden). Instances keep their last forward's activations: one per thread.
public protocol TrainingHead: AnyObject {
    /// Logits of the last forward pass, row-major [logitRows, logitWidth].
    var logits: UnsafeBufferPointer<Float> { get }
    var logitRows: Int { get }
    var logitWidth: Int { get }

    /// Computes logits and the mean loss. `labels` are per sequence (classification) or per token (MLM;
    /// -100 ignores). `dropout` non-nil means training mode (the head's own dropout, if any, applies).
    func forward(hidden: UnsafePointer<Float>, batch: TokenBatch, labels: [Int32], dropout: DropoutSpec?) throws -> Float

    /// dL/d(logits) of the last forward, written by its loss. Add further loss terms' gradients here (e.g. a
    /// weighted VAT consistency term) before `backward`.
    var logitGradient: UnsafeMutableBufferPointer<Float> { get }

    /// Backward of the last forward from `logitGradient`: adds head parameter gradients into `grads` (laid out
    /// like the store; nil skips them) and dL/d(hidden) into `dHidden` [tokens, H] (zeroed by
    /// `EncoderGradientWorkspace.prepare`).
    func backward(batch: TokenBatch, grads: Tensor?, dHidden: UnsafeMutablePointer<Float>)
}

/// Head tensor names: our canonical names equal transformers' except the encoder's `bert.` prefix (and RoBERTa's
/// MLM head, `robertaMaskedLM`).
public enum HeadNames {
    public static let classifierWeight = "classifier.weight"
    public static let classifierBias = "classifier.bias"
    public static let mlmDenseWeight = "cls.predictions.transform.dense.weight"
    public static let mlmDenseBias = "cls.predictions.transform.dense.bias"
    public static let mlmLNWeight = "cls.predictions.transform.LayerNorm.weight"
    public static let mlmLNBias = "cls.predictions.transform.LayerNorm.bias"
    public static let mlmBias = "cls.predictions.bias"

    /// Where a mean-pooling classifier's tensors are saved: under a name transformers' BertForSequenceClassification
    /// does not look for, so loading such a model as that class (which pools [CLS] and would score differently)
    /// reports `classifier.*` as newly initialised instead of silently using our weights (issue 11).
    public static let meanPoolingPrefix = "mean_pooling."

    /// RobertaForMaskedLM's names for our (BERT's) MLM head tensors: the same computation (dense, GELU, LayerNorm,
    /// decoder tied to the word embeddings, bias), so a RoBERTa-family checkpoint's `lm_head` starts `pretrain`.
    public static let robertaMaskedLM: [String: String] = [
        mlmDenseWeight: "lm_head.dense.weight", mlmDenseBias: "lm_head.dense.bias",
        mlmLNWeight: "lm_head.layer_norm.weight", mlmLNBias: "lm_head.layer_norm.bias", mlmBias: "lm_head.bias",
    ]

    /// The name transformers' BertFor* classes use for canonical `name` (`pooler.dense.weight` →
    /// `bert.pooler.dense.weight`; head tensors unchanged, or under `meanPoolingPrefix` for a mean-pooling
    /// classifier). Use as `ParameterStore.save(rename:)`.
    public static func transformers(_ name: String, prefix: String = "bert.", meanPoolingHead: Bool = false) -> String {
        if name.hasPrefix("classifier.") { return meanPoolingHead ? meanPoolingPrefix + name : name }
        if prefix == "roberta.", let alias = robertaMaskedLM[name] { return alias }
        return name.hasPrefix("cls.") ? name : prefix + name
    }

    /// Initialises head tensors as transformers' `_init_weights` does: Linear weights normal(0, std),
    /// biases 0, LayerNorm weights 1.
    public static func initialize(_ specs: [(name: String, shape: [Int])], in store: ParameterStore, seed: UInt64, std: Float = 0.02) {
        var rng = RandomSource(seed: seed)
        for (name, shape) in specs {
            let p = store.pointer(name), n = shape.reduce(1, *)
            if name.hasSuffix(".bias") { p.update(repeating: 0, count: n) }
            else if name.contains("LayerNorm") { p.update(repeating: 1, count: n) }
            else { rng.fillNormal(p, count: n, std: std) }
        }
    }
}

/// A growable Float buffer for head activations (batch geometry changes between steps).
final class HeadBuffer: @unchecked Sendable {
    private(set) var data: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    private(set) var capacity = 0

    deinit { data.deallocate() }

    /// Makes room for `n` floats and returns the (uninitialised-content) storage.
    @discardableResult
    func reserve(_ n: Int) -> UnsafeMutablePointer<Float> {
        if n > capacity {
            data.deallocate()
            data = .allocate(capacity: n)
            data.initialize(repeating: 0, count: n)
            capacity = n
        }
        return data
    }
}
