import ArgumentParser
import EncoderModel
import Foundation

/// `uniguard embed`: stdin `{"text": ...}` lines to stdout `{"embedding": [...]}` (mean pooled, L2-normalised).
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embed",
        abstract: "Embed JSON lines {\"text\": ...} from stdin (mean pooled, L2-normalised, as sentence-transformers).")

    @OptionGroup var options: ModelOptions

    @Option(name: .long, help: "Lines embedded together.")
    var batchSize = 32

    func run() throws {
        options.applyThreads()
        let embedder: SentenceEmbedder
        do { embedder = try SentenceEmbedder(directory: try options.directory()) } catch { fail("\(error)") }
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
            fail("\(error)")
        }
    }
}
