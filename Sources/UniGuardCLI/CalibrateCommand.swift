import ArgumentParser
import CommandLineSupport
import Foundation
import GuardData
import Guards
import Runtime

/// `uniguard calibrate --model DIR --val FILE`: sets a trained model's decision threshold on validation samples.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "calibrate",
        abstract: "Set a model's decision threshold on validation samples: max F1 with false-positive rate at most --target-fpr.",
        discussion: "A TaskGuard is calibrated on the samples of its policy. A MultiTaskGuard (or a merge of them) is calibrated on the policies it was pretrained on (uniguard.json's pretraining.policies), each sample read with its policy's text from the pack — so a policy it never saw stays unseen, and its zero-shot verdicts use a threshold chosen without it. --policy ID (repeatable) chooses the policies instead. Only uniguard.json is rewritten (atomically, its other keys kept); the weights are untouched.")

    @Option(help: "Model directory (uniguard.json is updated in place).") var model: String
    @Option(help: "Validation samples (JSONL) with labels.") var val: String
    @Option(help: "Calibrate on the samples of this policy (repeat for several). Default: see above.") var policy: [String] = []
    @OptionGroup var policyPack: PolicyPackOption
    @Option(help: "False-positive-rate cap (0-1); 1 means plain max F1.") var targetFpr: Double = 0.05
    @Flag(help: "Instruction-format models: a threshold per instruction, mean + k·sd of the scores of fixed generic benign prompts (BenignAnchors) under it, with k chosen here; a policy the model never saw then gets its own level instead of one other policies set.")
    var relativeToAnchors = false
    @Flag(help: "Skip malformed lines instead of stopping.") var skipInvalid = false
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        try OptionCheck.require(targetFpr >= 0 && targetFpr <= 1, "--target-fpr must be in [0, 1] (got \(targetFpr))")
    }

    func run() throws {
        threads.apply()
        try OutputPath.refuseInputs(model, [("--val", val)])
        try ValidationCalibration.apply(modelDirectory: URL(fileURLWithPath: model), val: val, policies: policy.isEmpty ? nil : policy,
                                        pack: policyPack.policies, targetFPR: targetFpr, skipInvalid: skipInvalid,
                                        relativeToAnchors: relativeToAnchors)
    }
}

/// The calibration `uniguard calibrate` and `uniguard pretrain --val` run on a saved model directory.
enum ValidationCalibration {
    /// Scores `val`'s samples of the chosen policies, sets the threshold and rewrites uniguard.json. Throws when no
    /// sample qualifies or a label is missing, naming the file and the policies looked for.
    static func apply(modelDirectory dir: URL, val: String, policies chosen: [String]?, pack: String?, targetFPR: Double,
                      skipInvalid: Bool, relativeToAnchors: Bool = false) throws {
        let model = try GuardModel.load(dir)
        if relativeToAnchors && model.metadata.inputFormat != .instruction {
            throw CommandFailure("--relative-to-anchors: \(dir.path) reads the prompt alone (input format 'prompt'); anchors locate an instruction's score level")
        }
        let stored = GuardMetadata.storedKeys(directory: dir)
        let policies = try chosen ?? defaultPolicies(model, stored: stored, dir: dir)
        let wanted = Set(policies)
        let instructions = try PolicyInstructions(model: model, policyArgument: nil, pack: pack)
        let reader = try SampleReader(path: val, skipInvalid: skipInvalid)
        model.onInstructionShortened = { warn($0) }
        var items: [(text: String, unsafe: Bool, policyText: String?)] = []
        var lines: [Int] = []
        var present = Set<String>()
        try reader.forEachSample { s in
            guard wanted.contains(s.policy) else { return }
            present.insert(s.policy)
            let policyText = try instructions.text(for: s.policy)
            items.append((model.input(for: s.prompt, policyText: policyText), s.label == .unsafe, policyText))
            lines.append(reader.lineNumber)
        }
        if reader.skippedCount > 0 { note(reader.skipReport) }
        let unsafe = items.filter(\.unsafe).count
        guard unsafe > 0, unsafe < items.count else {
            throw CommandFailure("\(val): \(items.count) samples of \(policies.joined(separator: ", ")) with \(unsafe) unsafe; calibration needs both labels (pass --policy ID or another --val)")
        }
        let c: ThresholdCalibration?
        do {
            c = relativeToAnchors
                ? try GuardCalibrator.calibrateRelativeToAnchors(model, validation: items, targetFPR: targetFPR, data: val, policies: present.sorted())
                : try GuardCalibrator.calibrate(model, validation: items.map { ($0.text, $0.unsafe) }, targetFPR: targetFPR, data: val,
                                                policies: present.sorted())
        } catch let error as NonFiniteScore {
            throw CommandFailure("\(val):\(lines[error.index]): \(error)")
        }
        guard let c else { throw CommandFailure("\(val): no threshold could be chosen") }
        try model.metadata.save(directory: dir, preserving: stored)
        if relativeToAnchors {
            note(String(format: "threshold: benign-anchor mean %+.3f sd under each instruction, chosen on %d validation samples of %d policies (target FPR %.3f%@): precision %.4f  recall %.4f  F1 %.4f  FPR %.4f; wrote %@",
                        c.threshold, items.count, present.count, c.targetFPR, c.metCap ? "" : ", not reachable: lowest FPR taken",
                        c.counts.precision, c.counts.recall, c.counts.f1, c.fpr, dir.appendingPathComponent(GuardMetadata.fileName).path))
            return
        }
        note(String(format: "threshold %.4f chosen on %d validation samples of %d policies (target FPR %.3f%@): precision %.4f  recall %.4f  F1 %.4f  FPR %.4f; wrote %@",
                    c.threshold, items.count, present.count, c.targetFPR, c.metCap ? "" : ", not reachable: lowest FPR taken",
                    c.counts.precision, c.counts.recall, c.counts.f1, c.fpr, dir.appendingPathComponent(GuardMetadata.fileName).path))
    }

    /// A single-policy model's policy; a MultiTaskGuard's pretraining policies.
    private static func defaultPolicies(_ model: GuardModel, stored: [String: Any], dir: URL) throws -> [String] {
        guard model.metadata.policy == MultiTaskGuard.policyID else { return [model.metadata.policy] }
        if let seen = (stored["pretraining"] as? [String: Any])?["policies"] as? [String], !seen.isEmpty { return seen }
        throw CommandFailure("\(dir.appendingPathComponent(GuardMetadata.fileName).path): a multi-policy model without pretraining.policies; name the policies to calibrate on with --policy ID (never the one you will test zero-shot)")
    }
}
