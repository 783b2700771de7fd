import Cluster
import Foundation
import GuardData
import Logging
import Runtime
import Synthesis

/// Runs one leased synthesize batch on a slot thread with the same `BatchGenerator` as `uniguard synthesize`
/// (generation, then self-reflection) against the job's endpoint, and returns the result with its samples as JSONL.
/// The API key comes from this worker's environment (the variable the job names); it never crosses the wire. An
/// endpoint that cannot be used (refusals, retries used up) throws: the task fails and the coordinator re-leases it.
struct SynthBatchRunner {
    let logger: Logger
    var environment: [String: String] = ProcessInfo.processInfo.environment

    func run(_ task: Uniguard_V1_SynthBatchTask, taskID: String) throws -> (Uniguard_V1_SynthBatchResult, Data) {
        guard task.generator == "chat-completions" else { throw WorkerError("\(taskID): unknown generator '\(LogSafe.text(task.generator, limit: 40))'; this worker speaks chat-completions") }
        guard let label = SafetyLabel(rawValue: task.label) else { throw WorkerError("\(taskID): label '\(LogSafe.text(task.label, limit: 40))' is not safe or unsafe") }
        guard (1...1000).contains(task.count) else { throw WorkerError("\(taskID): a batch of \(task.count) prompts (1...1000)") }
        let policy = try PolicyParser.parse(yaml: task.policyYaml, path: "policy \(task.policyID) of \(taskID)")
        guard policy.id == task.policyID else { throw WorkerError("\(taskID): the policy YAML is '\(policy.id)', not '\(task.policyID)'") }
        let apiKey = try Self.apiKey(variable: task.apiKeyEnv, environment: environment, taskID: taskID)
        let reflection: DisagreementAction?
        switch task.reflection {
        case "off": reflection = nil
        case let text: guard let action = DisagreementAction(rawValue: text) else { throw WorkerError("\(taskID): reflection '\(LogSafe.text(text, limit: 40))'") }
            reflection = action
        }
        let endpoint = EndpointSettings(endpoint: task.endpoint, apiKey: apiKey, requestTimeout: task.requestTimeoutSeconds > 0 ? task.requestTimeoutSeconds : 120,
                                        retry: RetryPolicy(maxRetries: Int(task.maxRetries)), connections: 1)
        let settings = GenerationSettings(model: task.model, temperature: task.temperature,
                                          maxTokens: task.maxTokens == 0 ? nil : Int(task.maxTokens), reflection: reflection)
        let client = ChatCompletionsClient(settings: endpoint, logger: logger)
        let generator = BatchGenerator(client: client, settings: settings)
        let batch = SynthesisBatch(policy: policy.id, label: label, sequence: Int(task.sequence), count: Int(task.count), runSeed: task.seed)
        let outcome = try Self.wait {
            do {
                let result = try await generator.run(batch, policy: policy)
                try? await client.shutdown()
                return result
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
        let usage = client.tally.snapshot
        var result = Uniguard_V1_SynthBatchResult()
        result.accepted = UInt32(outcome.samples.count)
        result.generated = UInt32(outcome.generated)
        result.rejected = reflection == .drop ? UInt32(outcome.disagreements.count) : 0
        result.relabelled = reflection == .relabel ? UInt32(outcome.disagreements.count) : 0
        result.requests = UInt64(usage.requests)
        result.promptTokens = UInt64(usage.promptTokens)
        result.completionTokens = UInt64(usage.completionTokens)
        result.retries = UInt64(max(0, usage.requests - usage.completions))
        result.disagreements = outcome.disagreements.map { d in
            var w = Uniguard_V1_SynthDisagreement()
            w.prompt = d.prompt
            w.intended = d.intended.rawValue
            w.judged = d.judged.rawValue
            w.reason = d.reason
            return w
        }
        var jsonl: [UInt8] = []
        for sample in outcome.samples {
            SampleCodec.encode(sample, into: &jsonl)
            jsonl.append(0x0A)
        }
        return (result, Data(jsonl))
    }

    /// The key from this worker's environment variable the job names (none when it names none).
    static func apiKey(variable: String, environment: [String: String], taskID: String) throws -> String? {
        guard !variable.isEmpty else { return nil }
        guard let value = environment[variable], !value.isEmpty else {
            throw WorkerError("\(taskID): the job's api_key_env \(variable) is not set (or empty) in this worker's environment; start the worker with it")
        }
        return value
    }

    /// Blocks this slot thread until `work` (on the concurrency pool) finishes.
    static func wait<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let box = Guarded<Result<T, any Error>?>(nil)
        Task {
            let r: Result<T, any Error>
            do { r = .success(try await work()) } catch { r = .failure(error) }
            box.withLock { $0 = r }
            done.signal()
        }
        done.wait()
        return try box.value!.get()
    }
}

/// Batch samples (JSONL) waiting for their result to leave: the slot thread puts them, the daemon's thread takes
/// them with the result and keeps them as the result's raw frame until the coordinator acknowledges it.
final class SynthesisOutbox: Sendable {
    private let frames = Guarded<[String: Data]>([:])
    func put(_ taskID: String, _ jsonl: Data) { frames.withLock { $0[taskID] = jsonl } }
    func take(_ taskID: String) -> [Data] { frames.withLock { $0.removeValue(forKey: taskID) }.map { [$0] } ?? [] }
}
