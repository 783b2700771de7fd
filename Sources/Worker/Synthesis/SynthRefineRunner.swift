import Cluster
import Foundation
import GuardData
import Logging
import Runtime
import Synthesis

/// Runs one leased refine task of a synthesize job (`refine_policy`) on a slot thread: asks the job's endpoint for a
/// critique and a revised policy with the same `PolicyRefiner` as `uniguard synthesize --refine-policy`, and returns
/// them; the coordinator checks the reply and writes the file. The API key comes from this worker's environment.
struct SynthRefineRunner {
    let logger: Logger
    var environment: [String: String] = ProcessInfo.processInfo.environment

    func run(_ task: Uniguard_V1_SynthRefineTask, taskID: String) throws -> Uniguard_V1_SynthRefineResult {
        let policy = try PolicyParser.parse(yaml: task.policyYaml, path: "policy \(task.policyID) of \(taskID)")
        guard policy.id == task.policyID else { throw WorkerError("\(taskID): the policy YAML is '\(policy.id)', not '\(task.policyID)'") }
        let disagreements = try task.disagreements.enumerated().map { i, d -> Disagreement in
            guard let intended = SafetyLabel(rawValue: d.intended), let judged = SafetyLabel(rawValue: d.judged) else {
                throw WorkerError("\(taskID): disagreement \(i + 1) has labels '\(LogSafe.text(d.intended, limit: 20))' / '\(LogSafe.text(d.judged, limit: 20))'")
            }
            return Disagreement(policy: policy.id, prompt: d.prompt, intended: intended, judged: judged, reason: d.reason)
        }
        guard !disagreements.isEmpty else { throw WorkerError("\(taskID): no disagreements to refine \(policy.id) from") }
        let apiKey = try SynthBatchRunner.apiKey(variable: task.apiKeyEnv, environment: environment, taskID: taskID)
        let endpoint = EndpointSettings(endpoint: task.endpoint, apiKey: apiKey, requestTimeout: task.requestTimeoutSeconds > 0 ? task.requestTimeoutSeconds : 120,
                                        retry: RetryPolicy(maxRetries: Int(task.maxRetries)), connections: 1)
        let client = ChatCompletionsClient(settings: endpoint, logger: logger)
        let refiner = PolicyRefiner(client: client, model: task.model)
        let shown = Array(disagreements.suffix(refiner.maxDisagreements))
        let (id, yaml) = (policy.id, task.policyYaml)
        let (critique, revised) = try SynthBatchRunner.wait {
            do {
                let answer = try await refiner.suggest(policyYAML: yaml, policyID: id, disagreements: shown)
                try? await client.shutdown()
                return answer
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
        let usage = client.tally.snapshot
        var result = Uniguard_V1_SynthRefineResult()
        result.critique = critique
        result.revisedPolicyYaml = revised
        result.requests = UInt64(usage.requests)
        result.promptTokens = UInt64(usage.promptTokens)
        result.completionTokens = UInt64(usage.completionTokens)
        result.retries = UInt64(max(0, usage.requests - usage.completions))
        return result
    }
}
