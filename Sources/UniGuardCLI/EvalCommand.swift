import ArgumentParser
import CommandLineSupport
import Foundation
import GuardData
import Guards
import Training

/// `uniguard eval --model DIR --data FILE`: precision, recall, F1, accuracy, ROC AUC, counts, latency.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Evaluate a classifier on labelled samples (unsafe = positive).")

    @Option(help: "Classifier model directory (repeat for one table of several models).") var model: [String]
    @Option(help: "Samples JSONL.") var data: String
    @Option(help: "Only samples of this policy: an id, or a policy YAML file (its text is the instruction; e.g. a policy the model never saw). Default: the model's policy.") var policy: String?
    @OptionGroup var policyPack: PolicyPackOption
    @Flag(help: "Evaluate every sample whatever its policy.") var allPolicies = false
    @Flag(help: "Print one JSON object {\"results\": [one object per --model]} instead of a table.") var json = false
    @Flag(help: "Skip malformed lines instead of stopping.") var skipInvalid = false
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        threads.apply()
        var rows: [(name: String, report: EvaluationReport)] = []
        var objects: [[String: Any]] = []
        for dir in model {
            let m = try GuardModel.load(URL(fileURLWithPath: dir))
            let instructions = try PolicyInstructions(model: m, policyArgument: policy, pack: policyPack.policies)
            let pol = instructions.selected
            let every = allPolicies || pol == MultiTaskGuard.policyID
            let reader = try SampleReader(path: data, skipInvalid: skipInvalid)
            m.onInstructionShortened = { warn($0) }
            var items: [(text: String, unsafe: Bool)] = [], lines: [Int] = []
            try reader.forEachSample { s in
                if every || s.policy == pol {
                    items.append((m.input(for: s.prompt, policyText: try instructions.text(for: s.policy)), s.label == .unsafe))
                    lines.append(reader.lineNumber)
                }
            }
            if reader.skippedCount > 0 { note(reader.skipReport) }
            guard !items.isEmpty else { throw TrainingError.noData("\(data): no samples for policy '\(pol)'") }
            let r: EvaluationReport
            do { r = try Evaluator(model: m).evaluate(items, perSampleLatency: true) } catch let error as NonFiniteScore {
                throw CommandFailure("\(data):\(lines[error.index]): \(error)")
            }
            rows.append((name: "\(URL(fileURLWithPath: dir).lastPathComponent) [\(pol)]", report: r))
            var o = r.jsonObject
            o["model"] = dir; o["data"] = data; o["policy"] = pol
            objects.append(o)
        }
        if json {
            // One shape whatever the number of models, so a script reads `results` the same way for one or many.
            let payload: [String: Any] = ["results": objects]
            let d = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
            print(String(decoding: d, as: UTF8.self))
        } else {
            print(EvalTable.render(rows))
        }
    }
}

/// The paper's results table: one row per model/dataset.
enum EvalTable {
    static func render(_ rows: [(name: String, report: EvaluationReport)]) -> String {
        let header = ["model", "n", "precision", "recall", "F1", "accuracy", "ROC AUC", "tp/fp/tn/fn", "s/sample safe", "s/sample unsafe"]
        let cells = rows.map { r -> [String] in
            let x = r.report
            return [r.name, "\(x.counts.total)", f(x.precision), f(x.recall), f(x.f1), f(x.accuracy), x.rocAUC.map(f) ?? "-",
                    "\(x.counts.tp)/\(x.counts.fp)/\(x.counts.tn)/\(x.counts.fn)",
                    String(format: "%.4f", x.secondsPerSafeSample), String(format: "%.4f", x.secondsPerUnsafeSample)]
        }
        let widths = header.indices.map { i in max(header[i].count, cells.map { $0[i].count }.max() ?? 0) }
        func line(_ c: [String]) -> String { zip(c, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ") }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + cells.map(line)).joined(separator: "\n")
    }

    static func f(_ x: Double) -> String { String(format: "%.4f", x) }
}

/// The instruction text an instruction-format model reads for each sample: the `--policy` YAML's text for its
/// policy, the model's own instruction for its policy, otherwise the pack's text for the sample's policy.
final class PolicyInstructions {
    let selected: String
    private let model: GuardModel
    private var fromFile: Policy?
    private let packDirectory: String?
    private var pack: PolicyPack?

    init(model: GuardModel, policyArgument: String?, pack: String?) throws {
        self.model = model
        packDirectory = pack
        if let arg = policyArgument, arg.hasSuffix(".yaml") || arg.hasSuffix(".yml") || FileManager.default.fileExists(atPath: arg) {
            let p = try PolicyParser.load(path: arg)
            fromFile = p
            selected = p.id
        } else {
            selected = policyArgument ?? model.metadata.policy
        }
    }

    /// nil means the model's stored instruction.
    func text(for policy: String) throws -> String? {
        guard model.metadata.inputFormat == .instruction else { return nil }
        if let f = fromFile, f.id == policy { return f.instructionText }
        if policy == model.metadata.policy && !model.metadata.instruction.isEmpty { return nil }
        if pack == nil { pack = try PolicyPack.load(directory: try PolicyPackOption.directory(packDirectory)) }
        return try pack!.policy(policy).instructionText
    }
}
