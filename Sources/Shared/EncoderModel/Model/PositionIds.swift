import Tokenizers

/// Which row of the position-embedding table each token of a batch reads.
///
/// BERT: column c of every row reads position c. RoBERTa family: transformers'
/// `create_position_ids_from_input_ids` — a token that is not the pad id reads `pad_token_id` + (its rank among
/// the row's non-pad tokens, from 1); a pad-id token reads `pad_token_id` (whose row gets no gradient, as
/// `nn.Embedding(padding_idx:)`). It goes by ids, not the attention mask, exactly as transformers does.
public enum PositionIds {
    /// Fills `out` [batch * seqLen] with the position row of every token of `batch` under `config`'s scheme.
    public static func fill(_ batch: TokenBatch, config: BertConfig, into out: UnsafeMutablePointer<Int32>) {
        let b = batch.batch, t = batch.seqLen
        guard config.paddingOffsetPositions else {
            for r in 0..<b { for c in 0..<t { out[r * t + c] = Int32(c) } }
            return
        }
        let pad = Int32(config.padTokenId)
        batch.ids.withUnsafeBufferPointer { ids in
            for r in 0..<b {
                var rank: Int32 = 0
                for c in 0..<t {
                    let i = r * t + c
                    if ids[i] == pad { out[i] = pad } else { rank += 1; out[i] = pad + rank }
                }
            }
        }
    }

    /// The position ids of `batch` as an array (tests, diagnostics).
    public static func of(_ batch: TokenBatch, config: BertConfig) -> [Int32] {
        var out = [Int32](repeating: 0, count: batch.batch * batch.seqLen)
        out.withUnsafeMutableBufferPointer { fill(batch, config: config, into: $0.baseAddress!) }
        return out
    }

    /// The position-table row the last real token of a `seqLen`-token input reads: it must exist.
    public static func largestRow(seqLen: Int, config: BertConfig) -> Int {
        config.paddingOffsetPositions ? config.padTokenId + seqLen : seqLen - 1
    }
}
