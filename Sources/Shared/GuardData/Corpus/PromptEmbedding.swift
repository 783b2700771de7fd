import EncoderModel
/// Turns prompts into L2-normalised embedding rows ([n, dimension]) for near-duplicate detection.
/// `SentenceEmbedder` is the real one; tests may pass a stand-in.
public protocol PromptEmbedding: AnyObject {
    /// Embedding width.
    var dimension: Int { get }
    /// One normalised row per prompt, in order.
    func embedPrompts(_ prompts: [String]) throws -> Tensor
}

extension SentenceEmbedder: PromptEmbedding {
    public func embedPrompts(_ prompts: [String]) throws -> Tensor { try embed(prompts) }
}
