import ArgumentParser
import EncoderModel
import Runtime
import Foundation

/// `--model DIR` (default: the cached base model), declared once for the commands that read any encoder.
struct ModelDirectoryOption: ParsableArguments {
    @Option(name: .long, help: "Model directory (default: the cached base model all-MiniLM-L6-v2).")
    var model: String?

    func directory() throws -> URL {
        if let model { return URL(fileURLWithPath: model) }
        return try UniGuardHome.requireBaseModel()
    }
}
