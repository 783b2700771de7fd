import ArgumentParser
import CommandLineSupport
import EncoderModel
import Foundation

/// `uniguard embed`: stdin `{"text": ...}` lines to stdout `{"embedding": [...]}` (mean pooled, L2-normalised).
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embed",
        abstract: "Embed JSON lines {\"text\": ...} from stdin (mean pooled, L2-normalised, as sentence-transformers).")

    @OptionGroup var modelOption: ModelDirectoryOption
    @OptionGroup var threads: ThreadOptions

    @Option(name: .long, help: "Lines embedded together.")
    var batchSize = 32

    func validate() throws {
        try OptionCheck.within(TrainingLimits.batch, batchSize, "--batch-size")
    }

    func run() throws {
        threads.apply()
        let embedder = try SentenceEmbedder(directory: try modelOption.directory())
        var input = JSONLinesInput()
        var pending: [String] = []
        func flush() throws {
            guard !pending.isEmpty else { return }
            let e = try embedder.embed(pending, batchSize: batchSize)
            for r in 0..<pending.count {
                JSONOut.emit("{\"embedding\":\(JSONOut.floats(e.data + r * e.shape[1], count: e.shape[1]))}")
            }
            pending.removeAll(keepingCapacity: true)
        }
        do {
            while let obj = try input.next() {
                pending.append(try input.string(obj, "text"))
                if pending.count >= batchSize { try flush() }
            }
            try flush()
        } catch {
            // Lines before the bad one are still answered, in order, so no accepted work is lost.
            try? flush()
            throw error
        }
    }
}
