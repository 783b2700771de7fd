import ArgumentParser
import CommandLineSupport
import Foundation
import GuardData
import Guards

/// `uniguard classify --model DIR [PROMPT]`: label prompts safe/unsafe under the model's policy.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "classify",
        abstract: "Classify a prompt (argument) or JSON lines {\"text\", \"policy\"?} from stdin → {\"label\", \"score\"}.")

    @Option(help: "Classifier model directory.") var model: String
    @Option(help: "Policy YAML file or id of a bundled policy, overriding the model's instruction (instruction-format models).") var policy: String?
    @OptionGroup var threads: ThreadOptions
    @Argument(help: "A prompt to classify; without it, JSON lines are read from stdin.") var prompt: String?

    func run() throws {
        threads.apply()
        let guardModel = try GuardModel.load(URL(fileURLWithPath: model))
        let defaultPolicy = try policy.map { try PolicyText.resolve($0) }
        func answer(_ text: String, _ policyText: String?) throws -> String {
            if policyText == nil && guardModel.requiresPolicy {
                throw CommandFailure("\(model) is a MultiTaskGuard with no default policy: pass --policy FILE.yaml|ID (or a \"policy\" field per input line)")
            }
            let score = try guardModel.scores(inputs: [guardModel.input(for: text, policyText: policyText)])[0]
            let label = score >= guardModel.metadata.threshold ? "unsafe" : "safe"
            return "{\"label\":\"\(label)\",\"score\":\(score)}"
        }
        if let prompt {
            print(try answer(prompt, defaultPolicy))
            return
        }
        var input = JSONLinesInput()
        while let obj = try input.next() {
            let text = try input.string(obj, "text")
            var policyText = defaultPolicy
            if obj["policy"] != nil { policyText = try PolicyText.resolve(try input.string(obj, "policy")) }
            JSONOut.emit(try answer(text, policyText))
        }
    }
}

/// Turns a `--policy` / `"policy"` value (a YAML path or a bundled policy id) into instruction text.
enum PolicyText {
    static func resolve(_ value: String) throws -> String {
        if value.hasSuffix(".yaml") || value.hasSuffix(".yml") || FileManager.default.fileExists(atPath: value) {
            return try PolicyParser.load(path: value).instructionText
        }
        return try PolicyPack.load(directory: try PolicyPackOption.directory(nil)).policy(value).instructionText
    }
}
