import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `refine_policy`'s output: a policy revision written beside the job's output as `<output>.<policy>.suggested` (then
/// `-2`, `-3`…), never over anything existing — the output, a policy, an earlier suggestion — and not named `*.yaml`,
/// so a policy pack does not load it. The rule of `PolicyRefiner.writeNew` for `uniguard synthesize --refine-policy`;
/// written here because the coordinator does not link the Synthesis module, and whole-or-nothing because a coordinator
/// may be killed at any moment.
enum SuggestionFile {
    /// The file's text: a header of comments (who suggested it, from what, the critique), then the revised YAML.
    static func text(policy: String, model: String, jobID: String, disagreements: Int, shown: Int, critique: String, yaml: String) -> String {
        var header = "# Suggested revision of policy \(policy) by \(model) (coordinator job \(jobID), refine_policy),\n"
        header += "# from \(disagreements) generator/judge disagreement\(disagreements == 1 ? "" : "s") (\(shown) shown to the model).\n"
        header += "# Review it; to adopt it, copy it over the policy file yourself.\n"
        header += critique.split(whereSeparator: \.isNewline).map { "# Critique: \($0)" }.joined(separator: "\n") + "\n"
        return header + yaml + (yaml.hasSuffix("\n") ? "" : "\n")
    }

    /// Writes and syncs `text` under a temporary name, then links it to the first free `<output>.<policy>.suggested[-N]`
    /// (link fails on an existing name, so nothing is replaced, and a kill never leaves half a suggestion under that
    /// name); returns its path.
    static func writeNew(_ text: String, besideOutput output: String, policy: String) throws -> String {
        // Policy ids are plain names; anything else in one must not make a path.
        let name = String(policy.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") ? $0 : "_" })
        let base = "\(output).\(name).suggested"
        let directory = (output as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\((output as NSString).lastPathComponent).\(name).\(UInt64.random(in: 0...UInt64.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw StoreError.cannotWrite(path: temporary, reason: String(cString: strerror(errno))) }
        defer { unlink(temporary) }
        do {
            defer { close(fd) }
            let bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { throw StoreError.cannotWrite(path: temporary, reason: String(cString: strerror(errno))) }
                offset += written
            }
            guard fsync(fd) == 0 else { throw StoreError.cannotWrite(path: temporary, reason: String(cString: strerror(errno))) }
        }
        for n in 1...1000 {
            let candidate = n == 1 ? base : "\(base)-\(n)"
            if link(temporary, candidate) == 0 { return candidate }
            guard errno == EEXIST else { throw StoreError.cannotWrite(path: candidate, reason: String(cString: strerror(errno))) }
        }
        throw StoreError.cannotWrite(path: "\(base)-1000", reason: "exists: clear out old suggestions")
    }
}
