import GuardData

/// The `--refine-policy` request: the policy's YAML and the samples where generator and judge disagreed;
/// the model critiques the wording that made them ambiguous and proposes a revised YAML.
public enum RefinementPrompt {
    public static let system = """
    You edit guardrail policies. Given a policy in YAML and prompts whose label two reviewers disagreed on, \
    explain which wording made them ambiguous and write a revised policy in the same YAML schema (same id and \
    keys: id, name, description, allowed, disallowed, examples.safe, examples.unsafe). Reply with JSON only.
    """

    public static func messages(policyYAML: String, policyID: String, disagreements: [Disagreement]) -> [ChatMessage] {
        var text = "Policy YAML (id: \(policyID)):\n```yaml\n\(policyYAML)\n```\n\nDisagreements (\(disagreements.count)):\n"
        for d in disagreements {
            text += "- prompt: \(PolicyDescription.squash(d.prompt))\n  written as: \(d.intended.rawValue); judged: \(d.judged.rawValue); judge's reason: \(PolicyDescription.squash(d.reason))\n"
        }
        text += """

        Reply with a JSON object {"critique": "...", "revised_policy_yaml": "..."}.

        Task: refine
        """
        return [.system(system), .user(text)]
    }
}
