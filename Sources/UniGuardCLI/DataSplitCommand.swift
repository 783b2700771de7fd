import ArgumentParser
import Foundation
import GuardData
import Runtime

/// `uniguard data split`: hash-based train/val/test split that never lets a prompt straddle splits.
struct DataSplitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Split a sample file into DIR/train.jsonl, DIR/val.jsonl and DIR/test.jsonl by prompt hash.",
        discussion: """
        The split of a sample is decided by SHA-256 of its normalised prompt, so identical prompts always land together and re-running gives the same files. Samples whose source ends in #group (as the template expander writes) stay with their group.
        """
    )

    @Argument(help: "Input JSONL file.")
    var file: String

    @Option(name: .long, help: "Output directory.")
    var out: String

    @Option(name: .long, help: "Validation fraction.")
    var val: Double = 0.1

    @Option(name: .long, help: "Test fraction.")
    var test: Double = 0.1

    @Flag(name: .long, help: "Skip invalid lines (counted and reported) instead of stopping at the first one.")
    var skipInvalid = false

    // DataSplitter's own check, run before any file is read so a bad fraction is a usage error.
    func validate() throws {
        do { _ = try DataSplitter(val: val, test: test) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let splitter = try DataSplitter(val: val, test: test)
        for split in DataSplit.allCases {
            try OutputPath.refuseInputs((out as NSString).appendingPathComponent("\(split.rawValue).jsonl"), [("FILE", file)])
        }
        let report = try splitter.split(file: file, outDirectory: out, skipInvalid: skipInvalid)
        if !report.skipReport.isEmpty { DataConsole.note(report.skipReport) }
        print("split \(file) into \(out)/{train,val,test}.jsonl (val \(val), test \(test))")
        print(report.table)
        for policy in report.counts.keys.sorted() {
            for (label, row) in report.counts[policy]!.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let empty = [DataSplit.val, .test].filter { (row[$0] ?? 0) == 0 && val > 0 && test > 0 }
                if !empty.isEmpty {
                    DataConsole.note("\(policy)/\(label.rawValue) has no \(empty.map(\.rawValue).joined(separator: " or ")) samples: too few distinct prompts or #groups; add data or examples")
                }
            }
        }
    }
}
