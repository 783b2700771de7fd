import ArgumentParser
import Foundation
import GuardData
import Runtime

/// `uniguard data merge F... --out F`: one sample file from many sources, cross-source duplicates dropped.
struct DataMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Concatenate sample files, dropping a (policy, prompt) already seen in an earlier file.",
        discussion: """
        Prompts are compared after normalisation (case, Unicode compatibility forms, whitespace). The first occurrence wins, so list the sources you trust most first; a later copy with the other label is dropped and reported as a conflict.
        """
    )

    @Argument(help: "Sample files (JSONL), in order of precedence.") var files: [String]
    @Option(name: .long, help: "Output JSONL file.") var out: String
    @Flag(name: .long, help: "Skip invalid lines (counted and reported) instead of stopping at the first one.") var skipInvalid = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one sample file") }
    }

    func run() throws {
        try OutputPath.refuseInputs(out, files.map { ("FILE", $0) })
        let report = try SampleMerger().merge(files, into: out, skipInvalid: skipInvalid)
        print("merged \(files.count) file\(files.count == 1 ? "" : "s") into \(out): \(report.kept) samples kept, \(report.duplicates) duplicates dropped, \(report.conflicts.values.reduce(0, +)) label conflicts dropped")
        for (pair, count) in report.conflicts.sorted(by: { $0.key < $1.key }) {
            DataConsole.note("label conflict: \(count) prompt\(count == 1 ? "" : "s") of \(pair) kept with the first source's label")
        }
        if report.skipped > 0 { DataConsole.note("skipped \(report.skipped) invalid lines") }
    }
}
