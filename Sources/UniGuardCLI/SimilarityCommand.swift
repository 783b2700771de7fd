import ArgumentParser
import EncoderModel
import Foundation

/// `uniguard similarity TEXT...`: cosine similarity matrix of sentence embeddings.
struct SimilarityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "similarity", abstract: "Print the cosine similarity matrix of texts.")

    @OptionGroup var options: ModelOptions

    @Argument(help: "Texts to compare.")
    var texts: [String]

    func run() throws {
        options.applyThreads()
        guard texts.count >= 2 else { fail("give at least two texts") }
        let embedder: SentenceEmbedder
        do { embedder = try SentenceEmbedder(directory: try options.directory()) } catch { fail("\(error)") }
        let e = try embedder.embed(texts)
        let h = e.shape[1]
        for (i, t) in texts.enumerated() { print("[\(i)] \(t)") }
        func cell(_ s: String) -> String { String(repeating: " ", count: max(0, 7 - s.count)) + s }
        print(cell("") + texts.indices.map { cell("[\($0)]") }.joined())
        for i in texts.indices {
            let row = texts.indices.map { j in cell(String(format: "%.3f", BLAS.dot(h, e.data + i * h, e.data + j * h))) }
            print(cell("[\(i)]") + row.joined())
        }
    }
}
