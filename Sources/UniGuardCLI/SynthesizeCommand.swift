import ArgumentParser
import CommandLineSupport
import EncoderModel
import Foundation
import GuardData
import Runtime
import Synthesis

/// `uniguard synthesize`: labelled training data for policies from any OpenAI-compatible chat-completions server.
struct SynthesizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthesize",
        abstract: "Generate labelled prompts for policies with an LLM (any OpenAI-compatible /chat/completions server).",
        discussion: """
        Per policy, asks the model for compliant (safe) and non-compliant (unsafe) prompts with rationales, varied \
        by behaviour, persona, style, length, language, jailbreak wrappers and benign look-alikes; asks it again to \
        judge each prompt against the policy (disagreements are relabelled or dropped); drops exact and \
        embedding near-duplicates; appends the accepted samples to --out until each policy has --count of each label. \
        Structured output is requested as json_schema, falling back to json_object and then plain text when the \
        server rejects it. A killed run resumes where it stopped when started again with the same command \
        (state in <out>.state.json; the generator/judge disagreements in <out>.disagreements.jsonl).
        """
    )

    @Option(name: .long, parsing: .singleValue, help: "Policy YAML file or id of a policy in --policies (repeatable).") var policy: [String]
    @OptionGroup var policyPack: PolicyPackOption
    @Option(help: "API base of an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 (requests go to {endpoint}/chat/completions).") var endpoint: String
    @Option(help: "Model name the server serves.") var model: String
    @Option(help: "Accepted samples per policy and label (like `data expand --count`).") var count: Int
    @Option(help: "Output samples JSONL; appended to, resumable.") var out: String
    @Option(help: "Environment variable holding the API key (sent as a Bearer token).") var apiKeyEnv: String?
    @Option(help: "Batches in flight at once.") var concurrency = 4
    @Option(help: "Prompts asked for per request.") var batch = 8
    @Option(help: "Sampling temperature of generation (the judge uses 0).") var temperature = 0.9
    @Option(help: "Run seed: each batch's request seed and diversity plan derive from it.") var seed: UInt64 = 0
    @Option(help: "max_tokens per request (default: the server's).") var maxTokens: Int?
    @Option(help: "What to do with a sample the judge labels differently: relabel (keep it under the judge's label) or drop.") var onDisagreement: DisagreementAction = .relabel
    @Flag(help: "Skip the self-reflection pass (one request per batch instead of two).") var noReflection = false
    @Flag(help: "After generating, ask the model to critique each policy from the disagreements; writes <policy file>.suggested beside it.") var refinePolicy = false
    @Option(help: "Seconds one request may take.") var timeout = 120.0
    @Option(help: "Retries per request (429, 5xx, timeouts, unusable replies).") var maxRetries = 6
    @Option(help: "First back-off in seconds (doubles per retry, up to 30 s; a server's Retry-After wins).") var retryBaseDelay = 0.5
    @Option(help: "Cosine similarity at or above which a prompt is a near duplicate of an accepted one (same policy and label).") var nearDupThreshold: Float = 0.95
    @Option(help: "Accepted embeddings per policy and label that new prompts are compared with.") var nearDupWindow = 1024
    @Flag(help: "Skip near-duplicate detection by embeddings (exact dedup still runs).") var noEmbeddingDedup = false
    @Option(help: "Encoder for near-duplicate detection (default: the cached all-MiniLM-L6-v2).") var embedModel: String?
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var logLevel: LogLevelOption

    func validate() throws {
        try OptionCheck.require(!policy.isEmpty, "pass at least one --policy FILE.yaml|ID")
        try OptionCheck.within(1...10_000_000, count, "--count")
        try OptionCheck.within(1...256, concurrency, "--concurrency")
        try OptionCheck.within(1...100, batch, "--batch")
        try OptionCheck.require(temperature >= 0 && temperature <= 2, "--temperature must be in 0...2 (got \(temperature))")
        try OptionCheck.require(timeout > 0 && timeout <= 3600, "--timeout must be in (0, 3600] seconds (got \(timeout))")
        try OptionCheck.within(0...100, maxRetries, "--max-retries")
        try OptionCheck.require(retryBaseDelay >= 0 && retryBaseDelay <= 60, "--retry-base-delay must be in 0...60 seconds (got \(retryBaseDelay))")
        try OptionCheck.within(1...1_000_000, maxTokens, "--max-tokens")
        try OptionCheck.require(nearDupThreshold > 0 && nearDupThreshold <= 1, "--near-dup-threshold must be in (0, 1] (got \(nearDupThreshold))")
        try OptionCheck.atLeast(0, nearDupWindow, "--near-dup-window")
        try OptionCheck.require(!model.isEmpty, "--model must not be empty")
        try OptionCheck.require(out != "-", "--out must be a file: the output is appended to and resumed")
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw ValidationError("--endpoint must be an http(s) URL such as http://127.0.0.1:8080/v1 (got \(endpoint))")
        }
    }

    func run() throws {
        logLevel.bootstrap()
        threads.apply()
        // Checked before the start line: appending samples to a policy file or the encoder would corrupt an input.
        try OutputPath.refuseInputs(out, policy.filter { FileManager.default.fileExists(atPath: $0) }.map { ("--policy", $0) }
                                        + (embedModel.map { [("--embed-model", $0)] } ?? []))
        let policies = try loadPolicies()
        var apiKey: String?
        if let variable = apiKeyEnv {
            guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                throw CommandFailure("--api-key-env \(variable): that environment variable is not set or empty")
            }
            apiKey = value
        }
        var embedder: SentenceEmbedder?
        if !noEmbeddingDedup {
            let directory = try embedModel.map { URL(fileURLWithPath: $0) } ?? UniGuardHome.requireBaseModel()
            embedder = try SentenceEmbedder(directory: directory, maxLength: 128)
        }
        let endpointSettings = EndpointSettings(endpoint: endpoint, apiKey: apiKey, requestTimeout: timeout,
                                                retry: RetryPolicy(maxRetries: maxRetries, baseDelay: retryBaseDelay), connections: concurrency)
        let generation = GenerationSettings(model: model, temperature: temperature, maxTokens: maxTokens,
                                            reflection: noReflection ? nil : onDisagreement)
        var options = SynthesisOptions(countPerLabel: count)
        options.batchSize = batch; options.concurrency = concurrency; options.seed = seed
        options.nearDuplicateThreshold = nearDupThreshold; options.nearDuplicateWindow = nearDupWindow
        let (out, refine) = (self.out, refinePolicy)
        note("synthesize: \(policies.map(\.id).joined(separator: ", ")) → \(out); \(count) per policy and label from \(model) at \(endpointSettings.completionsURL); "
             + "batch \(batch), concurrency \(concurrency), seed \(seed), reflection \(noReflection ? "off" : onDisagreement.rawValue), near-dup \(noEmbeddingDedup ? "off" : "≥ \(nearDupThreshold)")")
        try AsyncBridge.wait { [options, embedder] in
            let client = ChatCompletionsClient(settings: endpointSettings)
            do {
                try await Self.synthesize(policies: policies, client: client, generation: generation, options: options,
                                          embedder: embedder, out: out, refine: refine)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    static func synthesize(policies: [Policy], client: ChatCompletionsClient, generation: GenerationSettings, options: SynthesisOptions,
                           embedder: SentenceEmbedder?, out: String, refine: Bool) async throws {
        let run = try SynthesisRun(policies: policies, generator: BatchGenerator(client: client, settings: generation),
                                   options: options, embedder: embedder, outputPath: out)
        let bar = SynthesisProgressBar()
        run.onNote = { note("synthesize: \($0)") }
        run.onProgress = { bar.update($0) }
        let report = try await run.run()
        bar.finish()
        let state = report.state
        note("synthesize: \(state.counts.summary)")
        note("synthesize: this run: \(report.usage.summary) in \(String(format: "%.1f", report.seconds)) s")
        if report.resumedSamples > 0 { note("synthesize: all runs: \(state.usage.summary)") }
        let accepted = state.counts.accepted
        if accepted > 0 {
            let per = 1000 / Double(accepted)
            note(String(format: "synthesize: per 1k accepted samples: %.0f requests, %.0f prompt + %.0f completion tokens",
                        Double(state.usage.requests) * per, Double(state.usage.promptTokens) * per, Double(state.usage.completionTokens) * per))
        }
        for p in policies {
            let safe = state.groups[SynthesisState.key(policy: p.id, label: .safe)]?.accepted ?? 0
            let unsafe = state.groups[SynthesisState.key(policy: p.id, label: .unsafe)]?.accepted ?? 0
            note("synthesize: \(p.id): \(unsafe) unsafe, \(safe) safe in \(out)")
        }
        guard refine else { return }
        let disagreements = try run.ledger.committedDisagreements()
        let refiner = PolicyRefiner(client: client, model: generation.model)
        for p in policies {
            let mine = disagreements.filter { $0.policy == p.id }
            guard !mine.isEmpty else { note("synthesize: \(p.id): no disagreements, nothing to refine"); continue }
            let suggestion = try await refiner.refine(p, disagreements: mine)
            note("synthesize: \(p.id): suggested revision from \(mine.count) disagreements written to \(suggestion.path) (the original is unchanged)")
        }
    }

    /// `--policy` values: YAML files as given, ids from the pack (loaded once, only when an id is given).
    func loadPolicies() throws -> [Policy] {
        var pack: PolicyPack?
        var seen = Set<String>()
        return try policy.map { value in
            let loaded: Policy
            if value.hasSuffix(".yaml") || value.hasSuffix(".yml") || value.contains("/") {
                loaded = try PolicyParser.load(path: value)
            } else {
                if pack == nil { pack = try policyPack.load() }
                loaded = try pack!.policy(value)
            }
            guard seen.insert(loaded.id).inserted else { throw CommandFailure("--policy \(value): policy \(loaded.id) is given twice") }
            return loaded
        }
    }
}

extension DisagreementAction: ExpressibleByArgument {}
