import Foundation
import GuardData

/// `--refine-policy`: asks the model to critique a policy using the samples its generator and judge disagreed
/// on, and writes the proposed YAML beside the policy as `<file>.suggested` (then `.suggested-2`, …): never over
/// the original or an earlier suggestion, and not named `*.yaml`, so a policy pack does not load it as a policy.
public struct PolicyRefiner: Sendable {
    public let client: ChatCompletionsClient
    public let model: String
    /// Disagreements shown to the model (the most recent), to bound the request.
    public var maxDisagreements = 40

    public init(client: ChatCompletionsClient, model: String) { self.client = client; self.model = model }

    /// A suggestion: where it was written and the model's critique.
    public struct Suggestion: Sendable {
        public var path: String
        public var critique: String
        public var disagreements: Int
    }

    /// Writes a suggestion for `policy` (which must come from a file) from its `disagreements`.
    public func refine(_ policy: Policy, disagreements: [Disagreement]) async throws -> Suggestion {
        guard let path = policy.sourcePath, let yaml = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SynthesisError("policy \(policy.id) has no readable YAML file to refine")
        }
        let shown = Array(disagreements.suffix(maxDisagreements))
        let (critique, revised) = try await suggest(policyYAML: yaml, policyID: policy.id, disagreements: shown)
        var header = "# Suggested revision of \((path as NSString).lastPathComponent) by \(model) (uniguard synthesize --refine-policy),\n"
        header += "# from \(disagreements.count) generator/judge disagreement\(disagreements.count == 1 ? "" : "s") (\(shown.count) shown to the model).\n"
        header += "# Review it; to adopt it, copy it over the policy file yourself.\n"
        header += critique.split(whereSeparator: \.isNewline).map { "# Critique: \($0)" }.joined(separator: "\n") + "\n"
        let target = try Self.writeNew(header + revised + (revised.hasSuffix("\n") ? "" : "\n"), beside: path)
        return Suggestion(path: target, critique: critique, disagreements: disagreements.count)
    }

    /// The model's critique and revised YAML for a policy's text and disagreements (all shown), asked again until the
    /// revision parses as a policy with the same id. Writes nothing: a cluster worker returns them to the coordinator.
    public func suggest(policyYAML yaml: String, policyID id: String, disagreements shown: [Disagreement]) async throws -> (critique: String, revised: String) {
        let request = ChatRequest(model: model, messages: RefinementPrompt.messages(policyYAML: yaml, policyID: id, disagreements: shown),
                                  temperature: 0.2, seed: 0, maxTokens: nil, schema: ReplySchemas.policyRevision)
        return try await client.complete(request, purpose: "refine \(id)") { content -> (String, String) in
            let object = try ReplyJSON.object(in: content)
            let critique = try ReplyJSON.text(object, "critique", at: "reply")
            let revised = try ReplyJSON.text(object, "revised_policy_yaml", at: "reply")
            // The suggestion must be a policy this project loads, with the same id, or it is no use to the user.
            let parsed: Policy
            do { parsed = try PolicyParser.parse(yaml: revised, path: "<suggested revision>") } catch {
                throw ReplyProblem("the revised policy is not a valid policy YAML: \(error)")
            }
            guard parsed.id == id else { throw ReplyProblem("the revised policy has id \(parsed.id), expected \(id)") }
            return (critique, revised)
        }
    }

    /// Creates the first free `<path>.suggested[-N]` with O_EXCL, so nothing existing is ever replaced.
    static func writeNew(_ text: String, beside path: String) throws -> String {
        for n in 1...1000 {
            let candidate = path + (n == 1 ? ".suggested" : ".suggested-\(n)")
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if fd < 0 {
                if errno == EEXIST { continue }
                throw SynthesisError("\(candidate): cannot create (\(String(cString: strerror(errno))))")
            }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            try handle.write(contentsOf: Data(text.utf8))
            try handle.close()
            return candidate
        }
        throw SynthesisError("\(path).suggested-1000 exists: clear out old suggestions")
    }
}
