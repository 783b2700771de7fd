import ArgumentParser
import CommandLineSupport
import Foundation
import GuardData

/// `uniguard data expand`: seeded template expansion of a policy pack's examples into samples.
struct DataExpandCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expand",
        abstract: "Make N safe and N unsafe samples per policy from the policies' example prompts.",
        discussion: "Deterministic for a given --seed. The rules (framings, cross-policy negatives and their exceptions) are in policies/README.md."
    )

    @OptionGroup var policyPack: PolicyPackOption

    @Option(name: .long, help: "Samples per policy and label.")
    var count: Int

    @Option(name: .long, help: "Output JSONL file.")
    var out: String

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 0

    func validate() throws {
        try OptionCheck.within(1...1_000_000, count, "--count")
    }

    func run() throws {
        let directory = try policyPack.directory()
        let pack = try PolicyPack.load(directory: directory)
        let output = TemplateExpander(pack: pack, seed: seed).expand(count: count)
        let writer = try SampleWriter(path: out)
        try writer.write(contentsOf: output.samples)
        try writer.close()
        print("expanded \(pack.policies.count) policies from \(directory) into \(output.samples.count) samples in \(out) (seed \(seed))")
        var origins: [String: [String: Int]] = [:]
        for sample in output.samples {
            let origin = sample.source.split(separator: ":").dropFirst().first.map(String.init) ?? "?"
            origins[sample.policy, default: [:]]["\(sample.label.rawValue)/\(origin)", default: 0] += 1
        }
        for policy in pack.ids {
            let parts = (origins[policy] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            print("  " + policy.padding(toLength: 18, withPad: " ", startingAt: 0) + parts.joined(separator: ", "))
        }
        if output.duplicates > 0 {
            DataConsole.note("\(output.duplicates) samples repeat an earlier text: the policies have too few examples for --count \(count)")
        }
    }
}
