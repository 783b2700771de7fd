import GuardData
import Tokenizers

/// Renders `Instruct: <policy> [SEP] Query: <prompt>` within `maxLength` tokens by shortening the policy text
/// (whole words from its end), never the prompt: truncation at the end would otherwise push the prompt out and
/// every input would score the same.
struct InstructionFitting {
    let tokenizer: any Tokenizer
    let maxLength: Int
    /// Uses the tokenizer's own separator token (`</s>` for RoBERTa / XLM-R), not a literal `[SEP]`.
    var format: InstructionFormat

    init(tokenizer: any Tokenizer, maxLength: Int) {
        self.tokenizer = tokenizer
        self.maxLength = maxLength
        format = InstructionFormat(tokenizer: tokenizer)
    }

    func render(policyText: String, prompt: String) -> (text: String, shortened: Bool) {
        let full = format.render(policyText: policyText, prompt: prompt)
        guard !fits(full) else { return (full, false) }
        // The longest prefix of the policy's words that fits, by bisection (fitting is monotone in the words kept).
        let words = policyText.split(whereSeparator: \.isWhitespace)
        var low = 0, high = words.count
        while low < high {
            let mid = (low + high + 1) / 2
            if fits(format.render(policyText: words[..<mid].joined(separator: " "), prompt: prompt)) { low = mid } else { high = mid - 1 }
        }
        return (format.render(policyText: words[..<low].joined(separator: " "), prompt: prompt), true)
    }

    private func fits(_ text: String) -> Bool { tokenizer.encode(text, maxLength: nil).ids.count <= maxLength }
}
