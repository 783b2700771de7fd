import ArgumentParser
import CommandLineSupport
import EncoderModel
import Foundation

/// `uniguard similarity TEXT...`: cosine similarity matrix of sentence embeddings.
struct SimilarityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "similarity", abstract: "Print the cosine similarity matrix of texts.")

    @OptionGroup var modelOption: ModelDirectoryOption
    @OptionGroup var threads: ThreadOptions

    @Argument(help: "Texts to compare (at least two).")
    var texts: [String]

    func validate() throws {
        try OptionCheck.require(texts.count >= 2, "give at least two texts")
    }

    func run() throws {
        threads.apply()
        let embedder = try SentenceEmbedder(directory: try modelOption.directory())
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
