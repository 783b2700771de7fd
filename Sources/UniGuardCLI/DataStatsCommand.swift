import ArgumentParser
import Foundation
import GuardData

/// `uniguard data stats F...`: safe/unsafe counts per dataset and policy, as data/SOURCES.md records them.
struct DataStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print a Markdown table of safe/unsafe sample counts per dataset (source without category and #group) and policy."
    )

    @Argument(help: "Sample files (JSONL).") var files: [String]
    @OptionGroup var policyPack: PolicyPackOption
    @Flag(name: .long, help: "Skip invalid lines instead of stopping at the first one.") var skipInvalid = false
    @Flag(name: .long, help: "One row per package (the part of source before ':') instead of per dataset.") var byPackage = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one sample file") }
    }

    func run() throws {
        var counts = SampleCounts(byPackage: byPackage)
        var seenPolicies: Set<String> = []
        for file in files {
            let reader = try SampleReader(path: file, skipInvalid: skipInvalid)
            try reader.forEachSample { counts.add($0); seenPolicies.insert($0.policy) }
            if reader.skippedCount > 0 { DataConsole.note(reader.skipReport) }
        }
        let pack = (try? policyPack.load().ids) ?? []
        let policies = pack.filter(seenPolicies.contains) + seenPolicies.subtracting(pack).sorted()
        print("safe/unsafe samples per \(byPackage ? "package" : "dataset") and policy")
        print(counts.markdown(policies: policies))
    }
}
