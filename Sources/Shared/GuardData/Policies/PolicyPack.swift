import Foundation

/// A set of policies with unique ids, usually a directory of YAML files such as the bundled `policies/`.
public struct PolicyPack: Sendable {
    /// Policies sorted by id (a stable order for expansion and reports).
    public let policies: [Policy]

    /// Builds a pack, rejecting duplicate ids.
    public init(policies: [Policy]) throws {
        var seen: [String: String] = [:]
        for policy in policies {
            let here = policy.sourcePath ?? "<memory>"
            if let first = seen[policy.id] {
                throw PolicyError.duplicateID(id: policy.id, firstPath: first, secondPath: here)
            }
            seen[policy.id] = here
        }
        self.policies = policies.sorted { $0.id < $1.id }
    }

    /// Policy ids in order.
    public var ids: [String] { policies.map(\.id) }

    /// The policy with this id, if present.
    public subscript(id: String) -> Policy? { policies.first { $0.id == id } }

    /// The policy with this id, or an error listing the known ids.
    public func policy(_ id: String) throws -> Policy {
        guard let policy = self[id] else { throw PolicyError.unknownPolicy(id: id, known: ids) }
        return policy
    }

    /// Loads every `*.yaml` / `*.yml` file directly inside `directory` (other files, like README.md, are ignored).
    public static func load(directory: String) throws -> PolicyPack {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PolicyError.unreadable(path: directory, reason: "not a directory; expected a folder of policy YAML files")
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw PolicyError.unreadable(path: directory, reason: error.localizedDescription)
        }
        let files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        guard !files.isEmpty else { throw PolicyError.emptyPack(directory: directory) }
        let policies = try files.map { try PolicyParser.load(path: (directory as NSString).appendingPathComponent($0)) }
        return try PolicyPack(policies: policies)
    }

    /// Loads the bundled pack found by `locateBundled()`.
    public static func loadBundled() throws -> PolicyPack {
        guard let directory = locateBundled() else {
            throw PolicyError.unreadable(path: "policies/", reason: "bundled policy directory not found; run from the UniGuard checkout or set UNIGUARD_POLICIES")
        }
        return try load(directory: directory)
    }

    /// Finds the bundled `policies/` directory: `$UNIGUARD_POLICIES`, then `./policies`, then next to
    /// (or above) the executable, so `uniguard` works from a checkout and from a build directory.
    public static func locateBundled() -> String? {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["UNIGUARD_POLICIES"], !env.isEmpty { candidates.append(env) }
        candidates.append(FileManager.default.currentDirectoryPath + "/policies")
        var dir = (CommandLine.arguments.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path } ?? "") as NSString
        for _ in 0..<6 {
            dir = dir.deletingLastPathComponent as NSString
            if dir.length <= 1 { break }
            candidates.append(dir.appendingPathComponent("policies"))
        }
        return candidates.first { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }
}
