import ArgumentParser
import Foundation
import Tokenizers

/// `uniguard tokenize`: stdin `{"text": ...}` lines to stdout `{"input_ids": [...]}` lines.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Tokenize JSON lines {\"text\": ...} from stdin.")

    @OptionGroup var options: ModelOptions

    @Option(name: .long, help: "Truncate to at most N tokens including [CLS]/[SEP].")
    var maxLength: Int?

    func run() throws {
        let tokenizer: any Tokenizer
        do { tokenizer = try TokenizerLoader.load(directory: try options.directory()) } catch { fail("\(error)") }
        var input = JSONLinesInput()
        do {
            while let obj = try input.next() {
                let text = try input.string(obj, "text")
                JSONOut.emit("{\"input_ids\":\(JSONOut.ints(tokenizer.encode(text, maxLength: maxLength).ids))}")
            }
        } catch { fail("\(error)") }
    }
}
