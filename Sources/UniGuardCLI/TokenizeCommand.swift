import ArgumentParser
import CommandLineSupport
import Foundation
import Tokenizers

/// `uniguard tokenize`: stdin `{"text": ...}` lines to stdout `{"input_ids": [...]}` lines.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Tokenize JSON lines {\"text\": ...} from stdin.")

    @OptionGroup var modelOption: ModelDirectoryOption
    // Accepted as before for scripts that pass it to every command; tokenizing uses one thread.
    @OptionGroup(visibility: .hidden) var threads: ThreadOptions

    @Option(name: .long, help: "Truncate to at most N tokens including [CLS]/[SEP].")
    var maxLength: Int?

    func validate() throws {
        try OptionCheck.within(TrainingLimits.maxLength, maxLength, "--max-length")
    }

    func run() throws {
        let tokenizer = try TokenizerLoader.load(directory: try modelOption.directory())
        var input = JSONLinesInput()
        while let obj = try input.next() {
            let text = try input.string(obj, "text")
            JSONOut.emit("{\"input_ids\":\(JSONOut.ints(tokenizer.encode(text, maxLength: maxLength).ids))}")
        }
    }
}
