import ArgumentParser
import CommandLineSupport
import Foundation
import GuardData
import Guards

/// `uniguard classify --model DIR [PROMPT]`: label prompts safe/unsafe under the model's policy.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "classify",
        abstract: "Classify a prompt (argument) or JSON lines {\"text\", \"policy\"?} from stdin → {\"label\", \"score\"}.",
        discussion: "A prompt that starts with '-' is read as the prompt when it is none of the options; `--` before it makes that explicit: uniguard classify --model M -- \"-how do I deduct\".")

    @Option(help: "Classifier model directory.") var model: String
    @Option(help: "Policy YAML file or id of a bundled policy, overriding the model's instruction (instruction-format models).") var policy: String?
    @OptionGroup var threads: ThreadOptions
    @Argument(help: "A prompt to classify; without it, JSON lines are read from stdin.") var prompt: String?

    func run() throws {
        threads.apply()
        let guardModel = try GuardModel.load(URL(fileURLWithPath: model))
        guardModel.onInstructionShortened = { warn($0) }
        let defaultPolicy = try policy.map { try PolicyText.resolve($0) }
        var warnedIgnoredPolicy = false
        func answer(_ text: String, _ policyText: String?) throws -> String {
            if policyText == nil && guardModel.requiresPolicy {
                throw CommandFailure("\(model) is a MultiTaskGuard with no default policy: pass --policy FILE.yaml|ID (or a \"policy\" field per input line)")
            }
            if policyText != nil && guardModel.metadata.inputFormat == .prompt && !warnedIgnoredPolicy {
                warnedIgnoredPolicy = true
                warn("the policy is ignored: \(model) reads the prompt alone (input format 'prompt', trained for '\(guardModel.metadata.policy)')")
            }
            let score = try guardModel.scores(inputs: [guardModel.input(for: text, policyText: policyText)])[0]
            let label = score >= (try guardModel.threshold(policyText: policyText)) ? "unsafe" : "safe"
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
            do { JSONOut.emit(try answer(text, policyText)) } catch let error as NonFiniteScore {
                throw JSONLinesInput.LineError(line: input.lineNumber, message: error.description)
            }
        }
    }
}

/// Turns a `--policy` / `"policy"` value (a YAML path or a bundled policy id) into instruction text.
enum PolicyText {
    static func resolve(_ value: String) throws -> String {
        if value.hasSuffix(".yaml") || value.hasSuffix(".yml") || FileManager.default.fileExists(atPath: value) {
            return try PolicyParser.load(path: value).instructionText
        }
        // classify has no --policies: outside the checkout, the way to name a policy is its YAML file.
        guard let pack = PolicyPack.locateBundled() else {
            throw CommandFailure("'\(value)' is a policy id, and the bundled policies/ directory is not found from here; give the policy's YAML file instead: --policy FILE.yaml")
        }
        return try PolicyPack.load(directory: pack).policy(value).instructionText
    }
}
