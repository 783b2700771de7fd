import Tokenizers
extension BertEncoder {
    /// Runs already encoded rows through the encoder in batches of similar length (less padding), calling
    /// `body` with each batch's original row indices, the padded batch and its last hidden state.
    public func forwardSortedByLength(_ encodings: [Encoding], pad: Int32, batchSize: Int, workspace: EncoderWorkspace,
                                      _ body: (_ rows: [Int], _ batch: TokenBatch, _ hidden: UnsafeMutablePointer<Float>) throws -> Void) throws {
        let order = encodings.indices.sorted { encodings[$0].ids.count < encodings[$1].ids.count }
        var start = 0
        while start < order.count {
            let rows = Array(order[start..<min(order.count, start + batchSize)])
            let batch = TokenBatch.padded(rows.map { encodings[$0] }, pad: pad)
            try body(rows, batch, try forward(batch, workspace: workspace))
            start += batchSize
        }
    }
}
