import Foundation

/// How the stand-in behaves: which `response_format` types it accepts, and which faults it injects.
/// Faults are chosen by the 1-based number of the request (`schedule` first, then the `every` rules), so a
/// test knows exactly which request fails and how.
public struct StandInBehaviour: Sendable {
    /// What structured output the "server" supports, like real servers of different ages.
    public enum FormatSupport: Sendable {
        /// json_schema and json_object (vLLM, recent llama.cpp, Ollama, OpenAI).
        case jsonSchema
        /// json_object only; json_schema is a 400 (older llama.cpp and TGI builds).
        case jsonObjectOnly
        /// any response_format is a 400 (plain-text servers).
        case textOnly
    }

    /// One injected fault.
    public enum Fault: Sendable, Hashable {
        /// 429 with `Retry-After: <value>`.
        case rateLimited(retryAfter: String)
        /// 500 with an OpenAI-style error body.
        case serverError
        /// The reply is held back this many seconds (then answered normally).
        case slow(seconds: Double)
        /// A 200 whose content is JSON cut off mid-way, `finish_reason: "length"`.
        case truncatedJSON
        /// A 200 whose HTTP body is not JSON at all.
        case brokenBody
        /// A 200 whose content is valid JSON of another shape (the schema ignored).
        case ignoresSchema
    }

    public var formats: FormatSupport = .jsonSchema
    /// Faults by request number.
    public var schedule: [Int: Fault] = [:]
    /// Every n-th request gets the fault (n ≥ 1).
    public var every: [(n: Int, fault: Fault)] = []
    /// One in `disagreeOneIn` judged prompts (by a hash of the text) gets the other label; 0 = never.
    public var disagreeOneIn = 7
    /// About one in `repeatOneIn` generated prompts (seeded draw) is a fixed text per (policy, label), an exact duplicate across batches; 0 = never.
    public var repeatOneIn = 6
    /// The fixed text of `repeatOneIn` ends in one of a few rewordings (seeded draw): near duplicates across batches and
    /// workers that exact dedup cannot catch.
    public var rewordRepeats = false
    /// About one in `paraphraseOneIn` generated prompts (seeded draw) is the previous one with a word added (a near duplicate); 0 = never.
    public var paraphraseOneIn = 9
    /// Requests must carry `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// Requests must name this model (else 404, as OpenAI answers).
    public var model: String?

    public init() {}

    func fault(forRequest n: Int) -> Fault? {
        if let fault = schedule[n] { return fault }
        return every.first { $0.n > 0 && n % $0.n == 0 }?.fault
    }
}

/// One request as the stand-in saw it, for tests to inspect.
public struct StandInRecord: Sendable {
    public var number: Int
    /// `json_schema`, `json_object` or `none`.
    public var responseFormat: String
    /// `generate`, `judge`, `refine` or `unknown`, from the request's `Task:` line.
    public var task: String
    public var status: Int
    public var fault: StandInBehaviour.Fault?
    public var received: Date
}
