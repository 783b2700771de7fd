import GuardData

/// The settings of the model side of a run.
public struct GenerationSettings: Sendable, Hashable {
    public var model: String
    public var temperature: Double
    /// Reflection runs at this temperature: a judge should be steady.
    public var judgeTemperature: Double
    public var maxTokens: Int?
    /// nil: no self-reflection pass.
    public var reflection: DisagreementAction?

    public init(model: String, temperature: Double = 0.9, judgeTemperature: Double = 0, maxTokens: Int? = nil, reflection: DisagreementAction? = .relabel) {
        self.model = model; self.temperature = temperature; self.judgeTemperature = judgeTemperature
        self.maxTokens = maxTokens; self.reflection = reflection
    }
}

/// One batch as a library call: (policy, label, count, seed) → labelled samples with rationales, after the
/// self-reflection pass. Stateless apart from the client, so the CLI's run and a cluster worker can share it.
public struct BatchGenerator: Sendable {
    public let client: ChatCompletionsClient
    public let settings: GenerationSettings

    public init(client: ChatCompletionsClient, settings: GenerationSettings) {
        self.client = client
        self.settings = settings
    }

    /// `source` of a sample: `synth:<model>#<policy>/<label>/<sequence>`. The `#group` keeps one batch's
    /// samples (written side by side, often near-paraphrases) in the same split (see `DataSplitter`).
    public func source(of batch: SynthesisBatch) -> String { "synth:\(settings.model)#\(batch.name)" }

    public func run(_ batch: SynthesisBatch, policy: Policy) async throws -> BatchResult {
        precondition(policy.id == batch.policy, "the batch's policy")
        let generate = ChatRequest(model: settings.model,
                                   messages: GenerationPrompt.messages(policy: policy, label: batch.label, count: batch.count, sequence: batch.sequence, seed: batch.seed),
                                   temperature: settings.temperature, seed: UInt32(truncatingIfNeeded: batch.seed),
                                   maxTokens: settings.maxTokens, schema: ReplySchemas.generatedPrompts)
        let count = batch.count
        let written = try await client.complete(generate, purpose: "generate \(batch.name)") {
            try GeneratedPrompt.parse($0, requested: count)
        }
        let source = source(of: batch)
        var samples = written.map { Sample(policy: policy.id, prompt: $0.prompt, rationale: $0.rationale, label: batch.label, source: source) }
        var disagreements: [Disagreement] = []
        if let action = settings.reflection {
            let judge = ChatRequest(model: settings.model, messages: ReflectionPrompt.messages(policy: policy, prompts: samples.map(\.prompt)),
                                    temperature: settings.judgeTemperature, seed: UInt32(truncatingIfNeeded: batch.seed >> 32),
                                    maxTokens: settings.maxTokens, schema: ReplySchemas.judgements)
            let n = samples.count
            let verdicts = try await client.complete(judge, purpose: "judge \(batch.name)") { try Judgement.parse($0, count: n) }
            var kept: [Sample] = []
            for (sample, verdict) in zip(samples, verdicts) {
                guard verdict.label != sample.label else { kept.append(sample); continue }
                disagreements.append(Disagreement(policy: policy.id, prompt: sample.prompt, intended: sample.label, judged: verdict.label, reason: verdict.reason))
                if action == .relabel {
                    kept.append(Sample(policy: policy.id, prompt: sample.prompt, rationale: verdict.reason, label: verdict.label, source: source))
                }
            }
            samples = kept
        }
        return BatchResult(batch: batch, samples: samples, disagreements: disagreements, generated: written.count)
    }
}
