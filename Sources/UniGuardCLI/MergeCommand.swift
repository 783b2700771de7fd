import ArgumentParser
import Foundation
import Fusion

/// `uniguard merge CONFIG OUT`: merge model directories (mergekit-style YAML).
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge model directories (mergekit-style YAML) into a new model directory.",
        discussion: """
        CONFIG is mergekit's YAML: merge_method (linear, task_arithmetic, ties, dare_linear, dare_ties, slerp,
        breadcrumbs, breadcrumbs_ties), models (- model: DIR, parameters: {weight, density, gamma}), base_model,
        parameters (normalize, lambda, t, rescale) and dtype. UniGuard adds:
          subset: all | attention | attention_output | all_but_classifier, or {kind, include, exclude}
                  (name filters are substrings, or /regex/); tensors outside it come from the top-1 model
          top_model: DIR   (default: the first non-base model under `models`)
          random_seed: N   (DARE's drop pattern)
        Parameters may be per-layer gradients ([0.2, 0.5, 0.8]) or name-filtered lists ([{filter: attention,
        value: 0.7}, {value: 0.3}]), as in mergekit. OUT gets model.safetensors, config.json and tokenizer files
        of the top-1 model, and uniguard.json with the merge provenance (inputs with SHA-256).
        """
    )

    @Argument(help: "Merge config (YAML).")
    var config: String

    @Argument(help: "Output model directory: new, or a model directory it replaces as a whole once the merge is complete; never an input.")
    var out: String

    @Option(name: .long, help: "Seed for DARE's random drops (overrides random_seed in the config).")
    var randomSeed: UInt64?

    func run() throws {
        var recipe = try MergeConfig.load(path: config)
        if let randomSeed { recipe.randomSeed = randomSeed }
        let report = try ModelMerger.merge(recipe, to: out)
        print("merged \(report.mergedTensors) tensors with \(recipe.method.rawValue) (subset \(recipe.subset)), "
            + "copied \(report.copiedTensors) from \(recipe.resolvedTopModel) -> \(out) "
            + "in \(String(format: "%.2f", report.seconds)) s")
    }
}
