import Foundation
import Runtime
import Yams

/// Imports PyRIT's bundled seed datasets from the `pyrit==1.1.0` wheel (MIT licence), reading the
/// YAML files inside the zip rather than importing the package.
///
/// What is taken, and as what (every sample is labelled `unsafe`):
/// - `seed_datasets/local/adv_bench.prompt` (AdvBench, 520 harmful behaviours) → `safety`, source `pyrit:advbench`.
/// - AI Red Team seeds `seed_datasets/local/airt/{harms,illegal,malware,scams,violence,sexual,misinformation,
///   airt_imminent_crisis}.prompt` → `safety`; `airt/{hate,harassment}.prompt` → `safety` and `toxicity`;
///   source `pyrit:airt-<file>`.
/// - `seed_datasets/local/garak/doctor.prompt` (policy-puppetry objectives) → `safety`, except seeds tagged
///   `medical_advice`, which go to `medical_advice`.
/// - System-prompt extraction seeds (`psfuzz_steal_system.prompt`, `garak/system_prompt_extraction.prompt`)
///   and single-turn 0DIN jailbreaks (`0din/*.prompt`) → `prompt_injection`.
/// - Jailbreak templates `jailbreak/templates/**/*.yaml` (hand-collected, Pliny, Arth Singh and 488
///   in-the-wild templates) → `prompt_injection`, source `pyrit:jailbreak[-<subfolder>]`. Each template's
///   `{{ prompt }}` slot is filled with one AdvBench behaviour chosen by FNV-1a of the template's path,
///   so the output is deterministic and the wrapper carries a real harmful payload; without AdvBench the
///   slot is left empty. Templates needing other variables (`multi_parameter/`) or named `*benign*`
///   (a plain "You are a helpful assistant" prompt) are skipped.
///
/// Skipped on purpose: seeds that are turns of multi-turn conversations (`sequence`, or a non-user `role`),
/// non-text seeds, `airt/{fairness,fairness_yes_no,licensed_therapist,leakage}` (benign or not harmful
/// behaviour on their own), garak payload lists (slurs, XSS strings), and the `examples/` demo data.
public struct PyRITImporter: Sendable {
    /// The pinned wheel.
    public static let wheel = WheelSpec(name: "pyrit", version: "1.1.0")

    static let root = "pyrit/datasets/"
    static let seedRoot = root + "seed_datasets/local/"
    static let templateRoot = root + "jailbreak/templates/"
    static let advBench = seedRoot + "adv_bench.prompt"

    /// A seed file and the policies its seeds are unsafe for.
    struct SeedRule: Sendable {
        let entry: String
        let policies: [String]
        let source: String
    }

    static let seedRules: [SeedRule] = {
        var rules = [SeedRule(entry: advBench, policies: ["safety"], source: "pyrit:advbench")]
        for name in ["harms", "illegal", "malware", "scams", "violence", "sexual", "misinformation", "airt_imminent_crisis"] {
            rules.append(SeedRule(entry: seedRoot + "airt/\(name).prompt", policies: ["safety"], source: "pyrit:airt-" + slug(name.replacingOccurrences(of: "airt_", with: ""))))
        }
        for name in ["hate", "harassment"] {
            rules.append(SeedRule(entry: seedRoot + "airt/\(name).prompt", policies: ["safety", "toxicity"], source: "pyrit:airt-\(name)"))
        }
        rules.append(SeedRule(entry: seedRoot + "garak/doctor.prompt", policies: ["safety"], source: "pyrit:garak-doctor"))
        rules.append(SeedRule(entry: seedRoot + "psfuzz_steal_system.prompt", policies: ["prompt_injection"], source: "pyrit:psfuzz-steal-system"))
        rules.append(SeedRule(entry: seedRoot + "garak/system_prompt_extraction.prompt", policies: ["prompt_injection"], source: "pyrit:sysprompt-extraction"))
        return rules
    }()

    public init() {}

    /// Reads the wheel and returns the samples. `log` receives progress lines.
    public func run(wheelPath: String, log: (String) -> Void = { _ in }) throws -> ImportReport {
        let archive = try WheelArchive(path: wheelPath)
        let entries = try archive.entries()
        guard entries.contains(where: { $0.hasPrefix(Self.root) }) else {
            throw ImportError.layoutChanged(wheel: wheelPath, detail: "no \(Self.root) folder in the wheel")
        }
        try archive.extract(prefixes: [Self.seedRoot, Self.templateRoot])
        var report = ImportReport()
        let entrySet = Set(entries)

        var harmful: [String] = []
        for rule in Self.seedRules {
            guard entrySet.contains(rule.entry) else {
                report.notes.append("missing \(rule.entry) (skipped)")
                continue
            }
            let seeds = try Self.seeds(in: archive, entry: rule.entry)
            if rule.entry == Self.advBench { harmful = seeds.map(\.value) }
            for seed in seeds {
                let policies = seed.categories.contains("medical_advice") ? ["medical_advice"] : rule.policies
                for policy in policies { report.add(policy: policy, prompt: seed.value, source: rule.source) }
            }
            log("\(rule.entry): \(seeds.count) seeds")
        }

        let odin = entries.filter { $0.hasPrefix(Self.seedRoot + "0din/") && $0.hasSuffix(".prompt") }.sorted()
        for entry in odin {
            let seeds = try Self.seeds(in: archive, entry: entry)
            for seed in seeds { report.add(policy: "prompt_injection", prompt: seed.value, source: "pyrit:0din") }
        }
        log("0din: \(odin.count) files")

        if harmful.isEmpty { report.notes.append("AdvBench not found: jailbreak template slots are left empty") }
        let templates = entries.filter { $0.hasPrefix(Self.templateRoot) && $0.hasSuffix(".yaml") }.sorted()
        var skipped: [String: Int] = [:]
        for entry in templates {
            let relative = String(entry.dropFirst(Self.templateRoot.count))
            let folder = relative.contains("/") ? String(relative.prefix { $0 != "/" }) : ""
            if folder == "multi_parameter" { skipped["needs variables other than prompt", default: 0] += 1; continue }
            if relative.lowercased().contains("benign") { skipped["benign control prompt", default: 0] += 1; continue }
            guard let template = try Self.templateValue(in: archive, entry: entry) else {
                skipped["no text value", default: 0] += 1
                continue
            }
            let payload = harmful.isEmpty ? "" : harmful[Int(FNV1a.hash64(entry) % UInt64(harmful.count))]
            let rendered: String
            do {
                rendered = try JinjaLite.render(template, values: ["prompt": payload])
            } catch {
                skipped["\(error)", default: 0] += 1
                continue
            }
            let source = folder.isEmpty ? "pyrit:jailbreak" : "pyrit:jailbreak-" + Self.slug(folder)
            report.add(policy: "prompt_injection", prompt: rendered, source: source)
        }
        log("jailbreak templates: \(templates.count) files")
        for (reason, count) in skipped.sorted(by: { $0.key < $1.key }) {
            report.notes.append("skipped \(count) jailbreak template\(count == 1 ? "" : "s"): \(reason)")
        }
        return report
    }

    /// One usable seed of a PyRIT seed file.
    struct Seed: Sendable {
        let value: String
        let categories: [String]
    }

    /// The single-turn, text, user-side seeds of a `.prompt` file.
    static func seeds(in archive: WheelArchive, entry: String) throws -> [Seed] {
        let text = try archive.text(entry)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { return [] }
            root = node
        } catch {
            throw ImportError.badEntry(wheel: archive.path, entry: entry, problem: "YAML does not parse: \(error)")
        }
        guard let seedNodes = root["seeds"]?.sequence else {
            throw ImportError.badEntry(wheel: archive.path, entry: entry, problem: "no 'seeds' list")
        }
        let fileType = root["data_type"]?.string ?? "text"
        var out: [Seed] = []
        for node in seedNodes {
            guard let value = node["value"]?.string else { continue }
            if node["sequence"] != nil { continue }
            if let role = node["role"]?.string, role != "user" { continue }
            if (node["data_type"]?.string ?? fileType) != "text" { continue }
            out.append(Seed(value: value, categories: stringList(node["harm_categories"])))
        }
        return out
    }

    /// The `value` of a jailbreak template file, nil when it has none.
    static func templateValue(in archive: WheelArchive, entry: String) throws -> String? {
        let text = try archive.text(entry)
        do {
            return try Yams.compose(yaml: text)?["value"]?.string
        } catch {
            throw ImportError.badEntry(wheel: archive.path, entry: entry, problem: "YAML does not parse: \(error)")
        }
    }

    private static func stringList(_ node: Node?) -> [String] {
        guard let node else { return [] }
        if let items = node.sequence { return items.compactMap(\.string) }
        return node.string.map { [$0] } ?? []
    }

    static func slug(_ text: String) -> String {
        text.lowercased().replacingOccurrences(of: "_", with: "-")
    }
}
