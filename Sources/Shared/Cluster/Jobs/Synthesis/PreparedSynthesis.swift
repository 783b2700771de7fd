import EncoderModel
import Foundation
import GuardData
import Runtime

/// A synthesize job after submission: its spec and each policy's YAML text (checked to parse, so workers need no
/// shared filesystem and a policy file edited later does not change a running job). Stored as JSON with the job.
public struct PreparedSynthesis: Codable, Sendable, Equatable {
    /// One policy of the job, as the workers receive it.
    public struct PolicyText: Codable, Sendable, Equatable {
        public var id: String
        public var yaml: String
    }

    public var spec: SynthesisJobSpec
    public var policies: [PolicyText]

    /// Loads every policy (ids from `policy_pack` or the bundled pack, files as given) and checks the output.
    public static func prepare(_ spec: SynthesisJobSpec) throws -> PreparedSynthesis {
        var pack: PolicyPack?
        var seen = Set<String>()
        var texts: [PolicyText] = []
        for (i, value) in spec.policies.enumerated() {
            let key = "policies[\(i)]"
            let policy: Policy
            do {
                if SynthesisSpecParser.isPolicyFile(value) {
                    policy = try PolicyParser.load(path: value)
                } else {
                    if pack == nil { pack = try spec.policyPack.map { try PolicyPack.load(directory: $0) } ?? PolicyPack.loadBundled() }
                    policy = try pack!.policy(value)
                }
            } catch {
                throw JobSpecError(source: spec.name, key: key, reason: "\(error)")
            }
            guard seen.insert(policy.id).inserted else {
                throw JobSpecError(source: spec.name, key: key, reason: "policy \(policy.id) is given twice")
            }
            guard let path = policy.sourcePath, let yaml = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw JobSpecError(source: spec.name, key: key, reason: "cannot read the YAML of policy \(policy.id)")
            }
            texts.append(PolicyText(id: policy.id, yaml: yaml))
        }
        if let output = spec.output { try checkOutput(output, spec: spec) }
        var spec = spec
        if var near = spec.nearDuplicates {
            near.embedModel = try resolveEmbedModel(near.embedModel, spec: spec)
            spec.nearDuplicates = near
        }
        return PreparedSynthesis(spec: spec, policies: texts)
    }

    /// The encoder the coordinator embeds with: `embed_model`, else its cached base model; checked to be a model
    /// directory with weights now, so a job does not fail at its first batch.
    static func resolveEmbedModel(_ given: String?, spec: SynthesisJobSpec) throws -> String {
        let key = "embed_model"
        let url: URL
        if let given { url = URL(fileURLWithPath: given) } else {
            do { url = try UniGuardHome.requireBaseModel() } catch {
                throw JobSpecError(source: spec.name, key: key, reason: "near-duplicate filtering runs on the coordinator, which has no base model: \(error). Fetch it on the coordinator host (scripts/fetch-base-model.sh), give embed_model: DIR, or set embedding_dedup: false")
            }
        }
        do { _ = try ModelDirectory(url).weights() } catch {
            throw JobSpecError(source: spec.name, key: key, reason: "\(url.path) is not a usable encoder: \(error)")
        }
        return url.path
    }

    /// The output must be new (a job never mixes its samples into another file) in a writable directory.
    public static func checkOutput(_ output: String, spec: SynthesisJobSpec) throws {
        if let size = (try? FileManager.default.attributesOfItem(atPath: output))?[.size] as? NSNumber, size.intValue > 0 {
            throw JobSpecError(source: spec.name, key: "output", reason: "\(output) exists and is not empty; a synthesize job writes a new file (move it away or name another)")
        }
        do { try OutputPath.requireWritableParent(output) } catch {
            throw JobSpecError(source: spec.name, key: "output", reason: "\(error)")
        }
        let inputs = spec.policies.filter(SynthesisSpecParser.isPolicyFile).map { (role: "policies", path: $0) }
        do { try OutputPath.refuseInputs(output, inputs) } catch {
            throw JobSpecError(source: spec.name, key: "output", reason: "\(error)")
        }
    }

    /// The `source` of every sample of a batch: `synth:<model>#<policy>/<label>/<sequence>` (as `uniguard synthesize`).
    public func source(policy: String, label: SafetyLabel, sequence: Int) -> String {
        "synth:\(spec.model)#\(policy)/\(label.rawValue)/\(sequence)"
    }

    /// Disagreements a refine task shows the model (the most recent), as `PolicyRefiner.maxDisagreements`.
    public static let refineDisagreements = 40

    /// The task that asks for a revision of `policy` from its most recent `disagreements` (oldest first).
    public func refineAssignment(taskID: String, attempt: Int, deadlineUnixMs: UInt64, policy: String,
                                 disagreements: [JobDisagreement]) -> Uniguard_V1_TaskAssignment {
        var task = Uniguard_V1_SynthRefineTask()
        task.policyID = policy
        task.policyYaml = policies.first { $0.id == policy }?.yaml ?? ""
        task.disagreements = disagreements.suffix(Self.refineDisagreements).map(\.wire)
        task.endpoint = spec.endpoint
        task.model = spec.model
        task.apiKeyEnv = spec.apiKeyEnv ?? ""
        task.requestTimeoutSeconds = spec.requestTimeoutSeconds
        task.maxRetries = UInt32(spec.maxRetries)
        var assignment = Uniguard_V1_TaskAssignment()
        assignment.taskID = taskID
        assignment.attempt = UInt32(attempt)
        assignment.leaseDeadlineUnixMs = deadlineUnixMs
        assignment.synthRefine = task
        return assignment
    }

    /// The task for one batch.
    public func assignment(taskID: String, attempt: Int, deadlineUnixMs: UInt64, policy: String, label: SafetyLabel,
                           sequence: Int, count: Int) -> Uniguard_V1_TaskAssignment {
        var task = Uniguard_V1_SynthBatchTask()
        task.policyID = policy
        task.policyYaml = policies.first { $0.id == policy }?.yaml ?? ""
        task.count = UInt32(count)
        task.seed = spec.seed
        task.generator = "chat-completions"
        task.label = label.rawValue
        task.sequence = UInt32(sequence)
        task.endpoint = spec.endpoint
        task.model = spec.model
        task.apiKeyEnv = spec.apiKeyEnv ?? ""
        task.temperature = spec.temperature
        task.reflection = spec.reflection ?? "off"
        task.maxTokens = UInt32(spec.maxTokens ?? 0)
        task.requestTimeoutSeconds = spec.requestTimeoutSeconds
        task.maxRetries = UInt32(spec.maxRetries)
        var assignment = Uniguard_V1_TaskAssignment()
        assignment.taskID = taskID
        assignment.attempt = UInt32(attempt)
        assignment.leaseDeadlineUnixMs = deadlineUnixMs
        assignment.synthBatch = task
        return assignment
    }
}
